"""User-facing messages of the users app; tests import them instead of repeating strings."""

# The API's, for any route called without credentials.
from project.errors import NOT_AUTHENTICATED as NOT_AUTHENTICATED

USERNAME_INVALID = "Enter a valid username: letters, digits and @/./+/-/_ only."
USERNAME_TAKEN = "A user with that username already exists."
EMAIL_INVALID = "Enter a valid email address."
EMAIL_TOO_LONG = "Email must have at most 254 characters."
EMAIL_TAKEN = "A user with that email already exists."
PASSWORDS_DO_NOT_MATCH = "Passwords do not match."
OLD_PASSWORD_WRONG = "Old password is incorrect."
BAD_CREDENTIALS = "No active account found with the given credentials."
TOKEN_INVALID = "Token is invalid or expired."
TOKEN_NOT_YOURS = "This token does not belong to you."
REFRESH_REQUIRED = "Refresh token is required."
LOGGED_OUT = "Successfully logged out."
LOGGED_OUT_EVERYWHERE = "Successfully logged out of every session."
