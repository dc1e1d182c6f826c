"""
The staff roles, defined once here and applied after every `migrate`.

Django creates a model's permissions only after migrating, so a data migration cannot see a
permission that is new on a fresh database; a `post_migrate` handler can.
"""

from django.apps import apps
from django.contrib.auth.models import Group, Permission

VIEWER = "Viewer"
EDITOR = "Editor"
PUBLISHER = "Publisher"

#: Records an Editor may delete: drafts (the admin refuses published ones) and the rows that
#: make up a record. Reference data that other records rely on is a Publisher's to delete,
#: and so is a former slug: old links and data files lead through it.
EDITOR_DELETES = ["activity", "agreement", "participation", "signatory", "citation", "formername"]
PUBLISH = ["publish_activity", "publish_agreement"]
#: Reference data that a migration loads: every role may view it, none may change it.
READ_ONLY = ["country"]


def curated_models():
    return [model._meta.model_name for model in apps.get_app_config("cooperation").get_models()]


def role_permissions():
    """Each role's permission codenames in the cooperation app."""
    models = curated_models()
    editable = [model for model in models if model not in READ_ONLY]
    viewer = [f"view_{model}" for model in models]
    editor = [
        *viewer,
        *(f"{action}_{model}" for model in editable for action in ["add", "change"]),
        *(f"delete_{model}" for model in EDITOR_DELETES),
    ]
    publisher = [*editor, *(f"delete_{model}" for model in editable), *PUBLISH]
    return {VIEWER: viewer, EDITOR: editor, PUBLISHER: publisher}


def apply_roles(**kwargs):
    """Create the groups and give each exactly its permissions; safe to run any number of times."""
    for name, codenames in role_permissions().items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(
            Permission.objects.filter(
                content_type__app_label="cooperation", codename__in=set(codenames)
            )
        )
