from django.contrib import admin
from django.urls import path

from project.api import api
from project.health import up

urlpatterns = [
    path("up", up, name="up"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
]

handler400 = "project.views.bad_request"
handler403 = "project.views.permission_denied"
handler404 = "project.views.not_found"
handler500 = "project.views.server_error"
