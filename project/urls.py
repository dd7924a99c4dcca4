from django.contrib import admin
from django.urls import path

from project.api import api
from project.views import admin_login

urlpatterns = [
    # /up (liveness) is answered by project.middleware.LivenessMiddleware, before any URL.
    path("admin/login/", admin_login),  # rate limited; the admin's own view behind it
    path("admin/", admin.site.urls),
    path("api/", api.urls),
]

handler400 = "project.errors.bad_request"
handler403 = "project.errors.permission_denied"
handler404 = "project.errors.not_found"
handler500 = "project.errors.server_error"
