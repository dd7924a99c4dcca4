"""Messages of the Idempotency-Key handling; tests import them."""

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_INVALID = "Idempotency-Key must be 1 to 255 printable ASCII characters."
IN_PROGRESS = (
    "A request with this Idempotency-Key is still being processed. Retry after it finishes."
)
KEY_REUSED = "This Idempotency-Key was already used with a different request."
