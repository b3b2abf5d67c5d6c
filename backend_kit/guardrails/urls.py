from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from .views import DeepHealthView, metrics_view

urlpatterns = [
    path("health/deep", DeepHealthView.as_view(), name="bk-health-deep"),
    path("metrics", csrf_exempt(metrics_view), name="bk-metrics"),
]
