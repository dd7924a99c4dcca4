"""A URLconf with a file-upload route under /api/, for the Idempotency-Key tests: the
uploads a real route (CSV import) accepts are larger than MAX_BODY_BYTES."""

from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from project.urls import urlpatterns as project_urlpatterns

RUNS: list[int] = []


@csrf_exempt
def upload(request):
    data = request.FILES["file"].read()
    RUNS.append(len(data))
    return JsonResponse({"size": len(data), "runs": len(RUNS)}, status=201)


urlpatterns = [
    path("api/test-upload/", upload),
    path("", include(project_urlpatterns)),
]
