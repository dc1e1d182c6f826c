from django.urls import path

from . import api, exports, feeds, views

app_name = "cooperation"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("activities/", views.ActivityListView.as_view(), name="activity-list"),
    path("activities/feed/", feeds.ActivityFeed(), name="activity-feed"),
    path("activities/<int:pk>/", views.ActivityDetailView.as_view(), name="activity-detail"),
    path("organisations/", views.OrganisationListView.as_view(), name="organisation-list"),
    path(
        "organisations/<slug:slug>/",
        views.OrganisationDetailView.as_view(),
        name="organisation-detail",
    ),
    path("areas/", views.AreaListView.as_view(), name="area-list"),
    path("areas/<slug:slug>/", views.AreaDetailView.as_view(), name="area-detail"),
    path("regions/", views.RegionListView.as_view(), name="region-list"),
    path("regions/<slug:slug>/", views.RegionDetailView.as_view(), name="region-detail"),
    path("agreements/", views.AgreementListView.as_view(), name="agreement-list"),
    path("agreements/feed/", feeds.AgreementFeed(), name="agreement-feed"),
    path("agreements/<int:pk>/", views.AgreementDetailView.as_view(), name="agreement-detail"),
    path("changes/", views.ChangeLogView.as_view(), name="changes"),
    path("glossary/", views.GlossaryView.as_view(), name="glossary"),
    path("changes/feed/", feeds.ChangeFeed(), name="changes-feed"),
    *exports.urlpatterns(),
    *api.json_twins,
    path("api/", api.urls),
]
