from django.apps import AppConfig
from django.contrib.auth.signals import user_login_failed
from django.db.models.signals import (
    m2m_changed,
    post_delete,
    post_init,
    post_migrate,
    post_save,
    pre_delete,
    pre_migrate,
    pre_save,
)


def activity_links():
    """The models of an activity's many-to-many links, whose writes send m2m_changed."""
    from .models import Activity, Participation

    return [
        Activity.areas.through,
        Activity.countries.through,
        Activity.regions.through,
        Participation,
    ]


class CooperationConfig(AppConfig):
    name = "cooperation"
    verbose_name = "Cooperation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from .cached import forget, remember_publication
        from .logins import log_failed_login
        from .models import Organisation
        from .roles import apply_roles
        from .search import repair_after_migrate
        from .slugs import keep_former_slug, record_former_slug, set_aside_before_migrate
        from .slugs import repair_after_migrate as repair_slugs_after_migrate

        post_migrate.connect(apply_roles, sender=self)
        post_migrate.connect(repair_after_migrate, sender=self)
        pre_migrate.connect(set_aside_before_migrate, sender=self)
        post_migrate.connect(repair_slugs_after_migrate, sender=self)
        user_login_failed.connect(log_failed_login)
        pre_save.connect(record_former_slug, sender=Organisation)
        post_save.connect(keep_former_slug, sender=Organisation)
        for signal in [post_save, post_delete, m2m_changed]:
            signal.connect(forget)
        post_init.connect(remember_publication, sender="cooperation.Activity")
        self.keep_partner_pairs()
        self.keep_facet_counts()
        self.mark_kept_cells_stale()

    def keep_partner_pairs(self):
        from . import partners
        from .models import Activity, Agreement, Participation

        for model in [Activity, Agreement, Participation]:
            post_init.connect(partners.remember, sender=model)
        post_save.connect(partners.participation_saved, sender=Participation)
        pre_delete.connect(partners.participation_deleting, sender=Participation)
        post_delete.connect(partners.participation_deleted, sender=Participation)
        for model in [Activity, Agreement]:
            post_save.connect(partners.record_saved, sender=model)
        pre_delete.connect(partners.agreement_deleting, sender=Agreement)
        post_delete.connect(partners.agreement_deleted, sender=Agreement)
        m2m_changed.connect(partners.parties_changed, sender=Agreement.parties.through)

    def keep_facet_counts(self):
        from . import counts
        from .models import Activity, Agreement, Area, Country, Organisation, Participation, Region

        for model, saving, saved in [
            (Activity, counts.activity_saving, counts.activity_saved),
            (Agreement, counts.agreement_saving, counts.agreement_saved),
        ]:
            pre_save.connect(saving, sender=model)
            post_save.connect(saved, sender=model)
            pre_delete.connect(counts.record_deleting, sender=model)
            post_delete.connect(counts.record_deleted, sender=model)
        pre_save.connect(counts.participation_saving, sender=Participation)
        post_save.connect(counts.participation_saved, sender=Participation)
        pre_delete.connect(counts.participation_deleting, sender=Participation)
        post_delete.connect(counts.participation_deleted, sender=Participation)
        for links in [*activity_links(), Agreement.parties.through, Agreement.areas.through]:
            m2m_changed.connect(counts.links_changed, sender=links)
        for model in [Area, Country, Region, Organisation]:
            post_delete.connect(counts.value_deleted, sender=model)

    def mark_kept_cells_stale(self):
        from . import kept
        from .models import (
            Agreement,
            Area,
            Citation,
            Country,
            Organisation,
            Participation,
            Region,
            Source,
        )

        for model in [Participation, Citation]:
            pre_save.connect(kept.link_saving, sender=model)
            post_save.connect(kept.link_saved, sender=model)
            post_delete.connect(kept.link_deleted, sender=model)
        for links in activity_links():
            m2m_changed.connect(kept.m2m_changed, sender=links)
        for model in [Organisation, Area, Country, Region, Source]:
            post_save.connect(kept.name_changed, sender=model)
            post_delete.connect(kept.name_changed, sender=model)
        m2m_changed.connect(kept.publishers_changed, sender=Source.publishers.through)
        post_save.connect(kept.agreement_saved, sender=Agreement)
