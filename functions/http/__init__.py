"""The HTTP toolkit every route in functions/ uses; routes only parse, call shared/, shape output.

- problems.py: ``Problem``, problem+json and JSON answers, RFC 6901 pointers, ``FieldError``;
- endpoint.py: the ``endpoint`` decorator (role check, query check, faults to problems);
- query.py: query parameters as data (``QuerySpec``), one rule for every route;
- tokens.py: continuation tokens bound to the route and filters they were issued for;
- body.py: the JSON body reader;
- callers.py: who is calling (``caller_for``) and refusals as answers (``refused_response``).
"""

from __future__ import annotations

from functions.http.endpoint import endpoint
from functions.http.problems import Problem, json_response, problem_response

__all__ = ["Problem", "endpoint", "json_response", "problem_response"]
