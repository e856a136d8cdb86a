"""Schemathesis hooks for finflow's contract run (test/e2e/schemathesis.test.ts).

A schema-valid request may still be refused for a rule no JSON Schema can state; the
OpenAPI document names each such rule on its operation (`x-finflow-unstated-rules`).
The test passes the names it excludes, each with its reason, in FINFLOW_EXCLUDED_RULES.
A "schema-valid request rejected" failure is dropped only when the answer is a problem
whose every `errors[]` entry is one of those named rules of that operation (same
location, field and code; a rule on field `*` covers any field), or when the case was not schema-valid after all (a
component generated in negative mode). Every other failure stands.
"""

import json
import os

import schemathesis

EXCLUDED = set(json.loads(os.environ.get("FINFLOW_EXCLUDED_RULES", "{}")).keys())


def _rules_of(case):
    raw = getattr(case.operation.definition, "raw", {}) or {}
    return [r for r in raw.get("x-finflow-unstated-rules", []) if r.get("rule") in EXCLUDED]


def _explained(case, response):
    rules = _rules_of(case)
    if not rules:
        return False
    try:
        body = json.loads(response.content)
    except (ValueError, TypeError):
        return False
    errors = body.get("errors") if isinstance(body, dict) else None
    if not errors:
        return False
    return all(
        any(e.get("in") == r["in"] and r["field"] in ("*", e.get("field")) and e.get("code") == r["code"] for r in rules)
        for e in errors
    )


def _has_negative_component(case):
    # schemathesis 4.32's coverage phase can label a case positive while one of its
    # components (e.g. the body, sent as `0`) was generated negative; such a case is not
    # schema-valid, so its refusal is no finding.
    meta = getattr(case, "meta", None)
    components = getattr(meta, "components", None) or {}
    return any(getattr(getattr(info, "mode", None), "is_negative", False) for info in components.values())


@schemathesis.hook
def filter_failure(context, failure, case, response):
    if "positive_data_acceptance" not in getattr(failure, "checks", ()):
        return True
    return not (_has_negative_component(case) or _explained(case, response))
