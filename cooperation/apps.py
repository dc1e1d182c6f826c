from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CooperationConfig(AppConfig):
    name = "cooperation"
    verbose_name = "Cooperation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from .roles import apply_roles
        from .search import repair_after_migrate

        post_migrate.connect(apply_roles, sender=self)
        post_migrate.connect(repair_after_migrate, sender=self)
