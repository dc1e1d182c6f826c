"""
One slug, one organisation, for good: a slug an organisation has now or had before (see
FormerSlug) belongs to no other, and is never both its current and a former slug, so an
old address and a data file's natural key always find one organisation.

Each column is unique on its own; that neither holds a value of the other is a rule across
two tables, which no CHECK or UNIQUE constraint can state. Triggers state it, on both
databases, through `install()`: by migration 0014 on PostgreSQL; on SQLite after every
`migrate` (`repair_after_migrate()`), having been taken out before it
(`set_aside_before_migrate()`), because SQLite rebuilds a table to alter it and refuses to
rename the rebuilt `cooperation_organisation` while a trigger of another table names it.
"""

from django.db import connections

ORGANISATIONS = "cooperation_organisation"
FORMER_SLUGS = "cooperation_formerslug"
MESSAGE = "A slug belongs to one organisation, as its current slug or a former one."

#: (trigger name, table, the other table whose slugs it may not take).
TRIGGERS = [
    ("cooperation_organisation_slug_not_former", ORGANISATIONS, FORMER_SLUGS),
    ("cooperation_formerslug_slug_not_current", FORMER_SLUGS, ORGANISATIONS),
]


def _sqlite_statements():
    refuse = f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
    statements = []
    for name, table, other in TRIGGERS:
        taken = f"EXISTS (SELECT 1 FROM {other} WHERE slug = new.slug)"
        statements += [
            f"CREATE TRIGGER IF NOT EXISTS {name}_insert BEFORE INSERT ON {table} "
            f"WHEN {taken} {refuse}",
            f"CREATE TRIGGER IF NOT EXISTS {name}_update BEFORE UPDATE OF slug ON {table} "
            f"WHEN {taken} {refuse}",
        ]
    return statements


def _postgresql_statements():
    statements = []
    for name, table, other in TRIGGERS:
        statements += [
            f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF EXISTS (SELECT 1 FROM {other} WHERE slug = NEW.slug) THEN
                    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'unique_violation';
                END IF;
                RETURN NEW;
            END $$""",
            f"DROP TRIGGER IF EXISTS {name} ON {table}",
            f"CREATE TRIGGER {name} BEFORE INSERT OR UPDATE OF slug ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {name}()",
        ]
    return statements


def _trigger_names(vendor):
    if vendor == "sqlite":
        return {f"{name}_{event}" for name, _, _ in TRIGGERS for event in ["insert", "update"]}
    return {name for name, _, _ in TRIGGERS}


def install(connection):
    statements = {"sqlite": _sqlite_statements, "postgresql": _postgresql_statements}
    if connection.vendor not in statements:
        return
    with connection.cursor() as cursor:
        for statement in statements[connection.vendor]():
            cursor.execute(statement)


def uninstall(connection):
    with connection.cursor() as cursor:
        for name, table, _ in TRIGGERS:
            if connection.vendor == "sqlite":
                for event in ["insert", "update"]:
                    cursor.execute(f"DROP TRIGGER IF EXISTS {name}_{event}")
            elif connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
                cursor.execute(f"DROP FUNCTION IF EXISTS {name}()")


def installed(connection):
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        return _trigger_names(connection.vendor) <= {name for (name,) in cursor.fetchall()}


def set_aside_before_migrate(using, **kwargs):
    """Before `migrate` on SQLite: take the triggers out, so that migrations may rebuild tables."""
    connection = connections[using]
    if connection.vendor == "sqlite":
        uninstall(connection)


def repair_after_migrate(using, **kwargs):
    """After `migrate` on SQLite: put back triggers a rebuilt table lost (see above)."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    if FORMER_SLUGS in connection.introspection.table_names() and not installed(connection):
        install(connection)


def record_former_slug(sender, instance, raw, using, **kwargs):
    """
    Before an organisation's slug changes, by any path that sends signals (the admin, an
    import, `loaddata`): note the slug it had, and give up a former slug it takes back.
    """
    from .models import FormerSlug

    if instance.pk is None:
        return
    old = sender._base_manager.using(using).filter(pk=instance.pk).values_list("slug", flat=True)
    old = old.first()
    if old is not None and old != instance.slug:
        FormerSlug.objects.using(using).filter(
            organisation=instance.pk, slug=instance.slug
        ).delete()
        instance._former_slug = old


def keep_former_slug(sender, instance, using, **kwargs):
    """After the change: keep the slug the organisation had (see record_former_slug)."""
    from .models import FormerSlug

    old = instance.__dict__.pop("_former_slug", None)
    if old is not None:
        FormerSlug.objects.using(using).get_or_create(organisation=instance, slug=old)
