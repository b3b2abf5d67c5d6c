from django.urls import path

from .views import JobByBodyView, JobsDataView, JobView

urlpatterns = [
    path("jobs", JobByBodyView.as_view(), name="bk-jobs"),
    path("jobs/<str:name>", JobView.as_view(), name="bk-job"),
    path("cloud_code/jobs/data", JobsDataView.as_view(), name="bk-jobs-data"),
]
