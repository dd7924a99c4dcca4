"""JSON answers for requests Django handles before (or instead of) the API."""

from django.http import JsonResponse

from project.errors import NOT_FOUND


def not_found(request, exception=None):
    return JsonResponse({"detail": NOT_FOUND}, status=404)


def server_error(request):
    return JsonResponse({"detail": "Internal server error."}, status=500)


def bad_request(request, exception=None):
    return JsonResponse({"detail": "Bad request."}, status=400)


def permission_denied(request, exception=None):
    return JsonResponse({"detail": "Permission denied."}, status=403)
