"""Marketing campaigns: audiences, personalisation, send jobs and rate limiting (issue 7)."""
