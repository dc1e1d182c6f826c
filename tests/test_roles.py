import pytest
import reversion
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from cooperation.models import Activity, Agreement, Publication
from cooperation.roles import EDITOR, PUBLISHER, VIEWER, apply_roles, role_permissions

from .factories import ActivityFactory, AreaFactory, OrganisationFactory, SourceFactory
from .test_admin import admin_url, form_errors, full_activity, full_agreement, rendered_form_data

pytestmark = pytest.mark.django_db

ROLES = [VIEWER, EDITOR, PUBLISHER]


@pytest.fixture
def as_role(client, django_user_model):
    """Log the client in as a new staff member holding one role."""

    def log_in(role):
        user = django_user_model.objects.create_user(username=role.lower(), is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        client.force_login(user)
        return client

    return log_in


def versioned(record):
    """Store a version of `record`, as a save in the admin does."""
    with reversion.create_revision():
        record.save()
    return record


def draft(record):
    type(record).objects.filter(pk=record.pk).update(publication=Publication.DRAFT)
    record.refresh_from_db()
    return record


def first_version_url(record):
    version = reversion.models.Version.objects.get_for_object(record).earliest("pk")
    return admin_url(type(record), "revision", record.pk, version.pk)


def post_change(client, record):
    url = admin_url(type(record), "change", record.pk)
    page = client.get(url)
    if page.status_code != 200 or "adminform" not in page.context:
        return client.post(url, {})
    return client.post(url, rendered_form_data(page))


def run_action(client, record, action):
    return client.post(
        admin_url(type(record), "changelist"), {"action": action, "_selected_action": [record.pk]}
    )


def page(view, *, of_record=True):
    """Request an admin page of the record's model (of the record itself, if `of_record`)."""

    def request_it(client, record):
        return client.get(admin_url(type(record), view, *([record.pk] if of_record else [])))

    return request_it


def delete(client, record):
    return client.post(admin_url(type(record), "delete", record.pk), {"post": "yes"})


def confirm_import(client, record):
    return client.post(admin_url(type(record), "process_import"), {})


def revert_page(client, record):
    return client.get(first_version_url(record))


def draft_activity():
    return draft(full_activity())


def versioned_activity():
    return versioned(full_activity())


def versioned_agreement():
    return versioned(full_agreement())


def versioned_organisation():
    return versioned(OrganisationFactory())


def source_page(name):
    """Request a source's own admin page `name` ("cite", "records")."""

    def request_it(client, source):
        return client.get(reverse(f"admin:cooperation_source_{name}", args=[source.pk]))

    return request_it


def cite(client, source):
    area = AreaFactory()
    quote = source.text.split()[1]
    return client.post(
        reverse("admin:cooperation_source_cite", args=[source.pk]),
        {
            "form-TOTAL_FORMS": 1,
            "form-INITIAL_FORMS": 0,
            "form-0-record": f"area:{area.pk}",
            "form-0-quote": quote,
        },
    )


#: (what, make the record, request it) -> expected status for Viewer, Editor, Publisher.
MATRIX = [
    ("activity changelist", full_activity, page("changelist", of_record=False), [200, 200, 200]),
    ("activity add", full_activity, page("add", of_record=False), [403, 200, 200]),
    ("published activity change page", full_activity, page("change"), [200, 200, 200]),
    ("published activity save", full_activity, post_change, [403, 302, 302]),
    ("draft activity delete page", draft_activity, page("delete"), [403, 200, 200]),
    ("draft activity delete", draft_activity, delete, [403, 302, 302]),
    ("published activity delete page", full_activity, page("delete"), [403, 403, 200]),
    ("published activity delete", full_activity, delete, [403, 403, 302]),
    ("activity history", versioned_activity, page("history"), [200, 200, 200]),
    ("activity revert page", versioned_activity, revert_page, [403, 403, 200]),
    ("deleted activities", full_activity, page("recoverlist", of_record=False), [403, 403, 200]),
    ("agreement add", full_agreement, page("add", of_record=False), [403, 200, 200]),
    ("published agreement save", full_agreement, post_change, [403, 302, 302]),
    ("published agreement delete page", full_agreement, page("delete"), [403, 403, 200]),
    ("agreement revert page", versioned_agreement, revert_page, [403, 403, 200]),
    ("activity import", full_activity, page("import", of_record=False), [403, 200, 200]),
    ("activity import confirmation", full_activity, confirm_import, [403, 200, 200]),
    ("activity export", full_activity, page("export", of_record=False), [200, 200, 200]),
    ("agreement import", full_agreement, page("import", of_record=False), [403, 200, 200]),
    ("area import", AreaFactory, page("import", of_record=False), [403, 200, 200]),
    ("area import confirmation", AreaFactory, confirm_import, [403, 200, 200]),
    ("source export", SourceFactory, page("export", of_record=False), [200, 200, 200]),
    ("organisations", OrganisationFactory, page("changelist", of_record=False), [200, 200, 200]),
    ("organisation import", OrganisationFactory, page("import", of_record=False), [403, 200, 200]),
    ("organisation export", OrganisationFactory, page("export", of_record=False), [200, 200, 200]),
    ("organisation save", OrganisationFactory, post_change, [403, 302, 302]),
    ("organisation delete page", OrganisationFactory, page("delete"), [403, 403, 200]),
    ("organisation history", versioned_organisation, page("history"), [200, 200, 200]),
    ("organisation revert page", versioned_organisation, revert_page, [403, 403, 200]),
    ("source read and cite page", SourceFactory, source_page("cite"), [200, 200, 200]),
    ("source record search", SourceFactory, source_page("records"), [200, 200, 200]),
    ("source cite", SourceFactory, cite, [403, 302, 302]),
]


@pytest.mark.parametrize("role", ROLES)
def test_roles_exist_after_migrate(role):
    group = Group.objects.get(name=role)

    assert set(group.permissions.values_list("codename", flat=True)) == set(
        role_permissions()[role]
    )


def test_apply_roles_is_idempotent_and_restores_a_removed_permission():
    editor = Group.objects.get(name=EDITOR)
    editor.permissions.remove(editor.permissions.get(codename="change_activity"))

    apply_roles()
    apply_roles()

    assert Group.objects.filter(name__in=ROLES).count() == 3
    assert editor.permissions.filter(codename="change_activity").exists()


def test_only_publishers_hold_publish_and_reference_deletes():
    permissions = role_permissions()

    assert "publish_activity" in permissions[PUBLISHER]
    assert not {"publish_activity", "publish_agreement"} & set(permissions[EDITOR])
    assert "delete_organisation" not in permissions[EDITOR]
    assert all(codename.startswith("view_") for codename in permissions[VIEWER])


@pytest.mark.parametrize(
    ("what", "make", "request_it", "role", "expected"),
    [
        pytest.param(what, make, request_it, role, statuses[i], id=f"{role}: {what}")
        for what, make, request_it, statuses in MATRIX
        for i, role in enumerate(ROLES)
    ],
)
def test_role_matrix(as_role, what, make, request_it, role, expected):
    record = make()
    client = as_role(role)

    response = request_it(client, record)

    assert response.status_code == expected, form_errors(response)


@pytest.mark.parametrize(
    ("model", "make"), [(Activity, full_activity), (Agreement, full_agreement)]
)
@pytest.mark.parametrize(
    ("role", "status", "publishes"),
    [(VIEWER, 200, False), (EDITOR, 302, False), (PUBLISHER, 302, True)],
)
def test_role_publish_action(as_role, model, make, role, status, publishes):
    record = draft(make())

    response = run_action(as_role(role), record, "publish")

    # A Viewer has no actions: the list is shown again. An Editor is told none was chosen.
    assert response.status_code == status
    record.refresh_from_db()
    assert record.is_published is publishes


@pytest.mark.parametrize(
    ("role", "status", "returns"),
    [(VIEWER, 200, False), (EDITOR, 302, False), (PUBLISHER, 302, True)],
)
def test_role_return_to_draft_action(as_role, role, status, returns):
    activity = full_activity()

    response = run_action(as_role(role), activity, "return_to_draft")

    assert response.status_code == status
    activity.refresh_from_db()
    assert activity.is_published is not returns


@pytest.mark.parametrize(("role", "publishes"), [(EDITOR, False), (PUBLISHER, True)])
def test_role_publish_button_on_change_form(as_role, role, publishes):
    activity = draft(full_activity())
    client = as_role(role)
    url = admin_url(Activity, "change", activity.pk)

    response = client.post(url, {**rendered_form_data(client.get(url)), "_publish": "Publish"})

    assert response.status_code == 302
    activity.refresh_from_db()
    assert activity.is_published is publishes


def test_editor_cannot_bulk_delete_published(as_role):
    published, unpublished = full_activity(), draft(full_activity())
    client = as_role(EDITOR)

    response = client.post(
        admin_url(Activity, "changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [published.pk, unpublished.pk],
            "post": "yes",
        },
    )

    assert response.status_code == 403
    assert Activity.objects.count() == 2


def test_editor_adds_activity_as_draft_even_when_asking_to_publish(as_role):
    client = as_role(EDITOR)
    page = client.get(admin_url(Activity, "add"))
    data = {**rendered_form_data(page), "title": "New", "slug": "new", "publication": "published"}

    response = client.post(admin_url(Activity, "add"), {**data, "_publish": "Publish"})

    assert response.status_code == 302
    assert Activity.objects.get(slug="new").publication == Publication.DRAFT


def test_set_role_gives_one_role_and_staff_status(django_user_model):
    user = django_user_model.objects.create_user(username="ana")

    call_command("set_role", "ana", "editor")
    call_command("set_role", "ana", "Publisher")

    user.refresh_from_db()
    assert user.is_staff
    assert list(user.groups.values_list("name", flat=True)) == [PUBLISHER]
    assert user.has_perm("cooperation.publish_activity")


def test_set_role_none_takes_roles_away(django_user_model):
    user = django_user_model.objects.create_user(username="ana", is_staff=True)
    user.groups.add(Group.objects.get(name=EDITOR))

    call_command("set_role", "ana", "--none")

    assert not user.groups.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody", "editor"], "No account named 'nobody'"),
        (["ana"], "Name one role, or give --none."),
    ],
)
def test_set_role_refuses_bad_input(django_user_model, args, message):
    django_user_model.objects.create_user(username="ana")

    with pytest.raises(CommandError, match=message):
        call_command("set_role", *args)


def test_editor_change_to_published_record_is_flagged_for_review(as_role):
    activity, untouched = ActivityFactory.create_batch(2)
    client = as_role(EDITOR)

    response = post_change(client, activity)

    assert response.status_code == 302, form_errors(response)
    url = admin_url(Activity, "changelist")
    response = client.get(url, {"changed_since_published": "yes"})
    assert list(response.context["cl"].result_list) == [activity]
    assert untouched not in Activity.objects.changed_since_published()
