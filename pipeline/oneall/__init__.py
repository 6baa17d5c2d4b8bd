"""The OneAll side: the HTTP client and the embedded sandbox that emulates the API."""
