import hashlib
import json
from pathlib import Path

import reversion
from django.apps import apps
from django.core import serializers
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.base import DeserializationError
from django.db import IntegrityError, transaction

from cooperation import counts, partners, seed
from cooperation.models import SeedLoad


def seed_version(content):
    """The version of a seed file: the first 12 hex digits of `sha256sum` of its bytes."""
    return hashlib.sha256(content).hexdigest()[:12]


def deserialize(item):
    """
    The one fixture object `item` as Django's JSON deserializer builds it.

    Each object is deserialized alone because the deserializer stops for good
    at the first object whose natural key cannot be worked out, and that
    happens whenever a row its natural key is made of (the organisation a
    citation supports, say) is missing.
    """
    (obj,) = serializers.deserialize("json", json.dumps([item]), handle_forward_references=True)
    return obj


def natural_key(obj):
    return obj.object._meta.label_lower, list(obj.object.natural_key())


def missing_references(item):
    """The rows that fixture object `item` refers to and the database lacks, as (label, key)."""
    model = apps.get_model(item["model"])
    missing = []
    for name, value in item["fields"].items():
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if not field.is_relation or value is None:
            continue
        manager = field.related_model._default_manager
        for key in value if field.many_to_many else [value]:
            try:
                if isinstance(key, list):
                    manager.get_by_natural_key(*key)
                else:
                    manager.get(pk=key)
            except ObjectDoesNotExist:
                label = field.related_model._meta.label_lower
                missing.append((label, tuple(key) if isinstance(key, list) else key))
    return missing


def format_key(key):
    return "/".join(str(part) for part in key) if isinstance(key, tuple) else str(key)


def rows(count, noun="row"):
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def describe(item):
    fields = item["fields"]
    name = fields.get("slug") or fields.get("quote", "")[:50] or json.dumps(fields)[:50]
    return f"{item['model']} “{name}”"


class Command(BaseCommand):
    help = (
        "Load the seed data without overwriting staff work. A database that has loaded this "
        "version of the seed data is left alone; otherwise only the rows new in this version "
        "(natural keys that no earlier load brought) are added, and rows staff changed or "
        "deleted stay as they are. With --reset, give every seeded row the seed's values "
        "again, as loaddata does, restoring rows staff deleted."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Overwrite the seeded rows with the seed's values, undoing staff edits to them.",
        )
        parser.add_argument(
            "--fixture",
            type=Path,
            default=seed.seed_path(),
            help="The seed file to load (default: fixtures/seed.json).",
        )

    def handle(self, *args, reset, fixture, **options):
        try:
            content = fixture.read_bytes()
        except FileNotFoundError:
            raise CommandError(f"{fixture} is missing: run manage.py build_seed.") from None
        version = seed_version(content)
        # One transaction, and one revision: what the seed brought is each row's first version.
        with reversion.create_revision():
            reversion.set_comment(f"Loaded from seed data version {version}.")
            if SeedLoad.objects.filter(version=version).exists() and not reset:
                self.stdout.write(f"Seed data version {version} already loaded: nothing to do.")
                return
            if reset:
                self.reset(content, version)
            else:
                self.load(json.loads(content), version)
            # Saves as loaddata makes them are raw: the partner pairs are worked out anew, and
            # the facet counts counted again (each save kept them, but a whole count is sure).
            partners.rebuild()
            counts.rebuild()

    def reset(self, content, version):
        """Save every object as loaddata does: over the row with its natural key, if any."""
        objects = []
        for obj in serializers.deserialize("json", content, handle_forward_references=True):
            obj.save()
            objects.append(obj)
        for obj in objects:
            if obj.deferred_fields:
                obj.save_deferred_fields()
        keys = {}
        for obj in objects:
            label, key = natural_key(obj)
            keys.setdefault(label, []).append(key)
        SeedLoad.objects.create(version=version, reset=True, natural_keys=keys)
        self.stdout.write(
            f"Reset {rows(len(objects))} to seed version {version}: "
            "staff edits to them are undone and deleted ones are back."
        )

    def load(self, items, version):
        earlier = {
            (label, tuple(key))
            for load in SeedLoad.objects.all()
            for label, keys in load.natural_keys.items()
            for key in keys
        }
        keys, added, left, deleted = {}, 0, 0, 0
        pending = items
        # A new row may refer to a new row further down the file: retry until a pass adds none.
        while pending:
            retry = []
            for item in pending:
                try:
                    obj = deserialize(item)
                except DeserializationError:
                    if not missing_references(item):
                        raise
                    retry.append(item)
                    continue
                label, key = natural_key(obj)
                if (label, tuple(key)) in earlier:
                    if obj.object.pk is None:
                        deleted += 1
                    else:
                        left += 1
                    continue
                if obj.object.pk is not None:
                    left += 1
                elif obj.deferred_fields:
                    retry.append(item)
                    continue
                elif not self.save_new(obj, item):
                    continue
                else:
                    added += 1
                keys.setdefault(label, []).append(key)
            if len(retry) == len(pending):
                break
            pending = retry
        # What is still pending refers to rows that are not there.
        for item in pending:
            missing = missing_references(item)
            gone = "which staff deleted" if set(missing) <= earlier else "not in the database"
            refers = ", ".join(f"{label} {format_key(key)}" for label, key in missing)
            self.stdout.write(
                self.style.WARNING(f"Skipped {describe(item)}: it refers to {refers}, {gone}.")
            )
        SeedLoad.objects.create(version=version, natural_keys=keys)
        self.stdout.write(
            f"Added {rows(added)} new in seed version {version}; "
            f"left {rows(left, 'existing row')} as they are."
        )
        if deleted:
            self.stdout.write(f"Did not restore {rows(deleted)} that staff deleted.")

    def save_new(self, obj, item):
        """Save a new row, or report and skip it if it clashes with a row staff made."""
        try:
            with transaction.atomic():
                obj.save()
        except IntegrityError as error:
            self.stdout.write(
                self.style.WARNING(
                    f"Skipped {describe(item)}: it clashes with an existing row ({error})."
                )
            )
            return False
        return True
