from django.apps import AppConfig
from django.contrib.auth.signals import user_login_failed
from django.db.models.signals import m2m_changed, post_delete, post_init, post_migrate, post_save


class CooperationConfig(AppConfig):
    name = "cooperation"
    verbose_name = "Cooperation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from .cached import forget, remember_publication
        from .logins import log_failed_login
        from .roles import apply_roles
        from .search import repair_after_migrate

        post_migrate.connect(apply_roles, sender=self)
        post_migrate.connect(repair_after_migrate, sender=self)
        user_login_failed.connect(log_failed_login)
        for signal in [post_save, post_delete, m2m_changed]:
            signal.connect(forget)
        post_init.connect(remember_publication, sender="cooperation.Activity")
