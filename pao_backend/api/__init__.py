"""The native REST API (/api/pao/v1) and the HTTP edge: dependencies and error mapping."""
