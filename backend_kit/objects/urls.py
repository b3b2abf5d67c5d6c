from django.urls import path
from drf_spectacular.utils import extend_schema, extend_schema_view

from .aggregate import AggregateView
from .batch import BatchView
from .config import ConfigView
from .schema_api import SchemasView, SchemaView
from .views import ClassView, ObjectView, PurgeView

# Parse.Schema.all() asks for "schemas/" (Parse Server's routes ignore a trailing
# slash): the same view, kept out of the OpenAPI document.
SchemasSlashView = extend_schema_view(
    get=extend_schema(exclude=True), post=extend_schema(exclude=True)
)(type("SchemasSlashView", (SchemasView,), {}))

urlpatterns = [
    path("classes/<str:class_name>", ClassView.as_view(), name="bk-class"),
    path("classes/<str:class_name>/<str:object_id>", ObjectView.as_view(), name="bk-object"),
    path("schemas", SchemasView.as_view(), name="bk-schemas"),
    path("schemas/", SchemasSlashView.as_view(), name="bk-schemas-slash"),
    path("schemas/<str:class_name>", SchemaView.as_view(), name="bk-schema"),
    path("batch", BatchView.as_view(), name="bk-batch"),
    path("aggregate/<str:class_name>", AggregateView.as_view(), name="bk-aggregate"),
    path("config", ConfigView.as_view(), name="bk-config"),
    path("purge/<str:class_name>", PurgeView.as_view(), name="bk-purge"),
]
