from django.urls import path

from .views import InstallationsView, InstallationView, PushView

urlpatterns = [
    path("installations", InstallationsView.as_view(), name="bk-installations"),
    path("installations/<str:object_id>", InstallationView.as_view(), name="bk-installation"),
    path("push", PushView.as_view(), name="bk-push"),
]
