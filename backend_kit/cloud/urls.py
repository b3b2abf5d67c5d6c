from django.urls import path

from .views import FunctionView

urlpatterns = [
    path("functions/<str:name>", FunctionView.as_view(), name="bk-function"),
]
