from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from cooperation.roles import role_permissions


class Command(BaseCommand):
    help = (
        "Give a staff member one role (Viewer, Editor or Publisher), replacing any other role, "
        "and let them log in to the admin. With --none, take every role away."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "role", nargs="?", type=str.capitalize, choices=list(role_permissions())
        )
        parser.add_argument("--none", action="store_true", help="Take every role away.")

    def handle(self, *args, username, role, none, **options):
        if bool(role) == none:
            raise CommandError("Name one role, or give --none.")
        try:
            user = get_user_model().objects.get_by_natural_key(username)
        except get_user_model().DoesNotExist:
            raise CommandError(
                f"No account named {username!r}: create it first, in the admin or with "
                "manage.py createsuperuser."
            ) from None
        roles = Group.objects.filter(name__in=role_permissions())
        user.groups.remove(*roles)
        if role:
            user.groups.add(roles.get(name=role))
            user.is_staff = True
            user.save(update_fields=["is_staff"])
            self.stdout.write(f"{username} is now a {role}.")
        else:
            self.stdout.write(f"{username} has no role now.")
