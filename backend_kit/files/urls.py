from django.urls import path, re_path

from .views import (
    CompleteUploadView,
    DirectUploadView,
    FileView,
    file_download,
    file_metadata,
    file_path_without_name,
)

urlpatterns = [
    path("files", file_path_without_name, name="bk-files-no-name"),
    path("files/", file_path_without_name, name="bk-files-no-name-slash"),
    path("files/<str:name>", FileView.as_view(), name="bk-file"),
    path("files/<str:app_id>/metadata/<str:name>", file_metadata, name="bk-file-metadata"),
    path("files/<str:app_id>/<str:name>", file_download, name="bk-file-download"),
    re_path(r"^files/(?P<rest>.+)$", file_path_without_name, name="bk-files-deep-path"),
    path("fileUploads", DirectUploadView.as_view(), name="bk-file-uploads"),
    path(
        "fileUploads/<str:name>/complete",
        CompleteUploadView.as_view(),
        name="bk-file-upload-complete",
    ),
]
