import pytest
from django.core.management import CommandError, call_command


@pytest.mark.parametrize(
    "command",
    [
        "backup",
        "check_citations",
        "keep_export_cells",
        "rebuild_facet_counts",
        "rebuild_partners",
        "rebuild_search",
        "restore",
    ],
)
def test_a_database_not_in_the_settings_is_refused_by_name(command):
    with pytest.raises(CommandError, match="invalid choice: 'nope'"):
        call_command(command, "--database", "nope")
