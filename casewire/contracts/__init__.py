"""What the API answers: the response contracts the services dump with and the gateway documents.

A service dumps its records with these schemas; the gateway names the same schemas in its OpenAPI
document (``gateway/openapi.py``) and sends the service's answer on as it came, so the document and
the answers cannot drift apart. Shapes only the gateway adds (counts, what a caller may see) extend them.
"""
