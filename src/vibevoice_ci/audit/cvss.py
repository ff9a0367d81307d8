"""CVSS v3.0 and v3.1 base scores from a vector string, by the `cvss` package (Red Hat's
implementation of FIRST's specification, in exact decimals).

OSV records carry a severity as a CVSS vector (``CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H``),
not as a number; the audit turns it into a score here and into a rating with
:meth:`vibevoice_ci.core.vulnerabilities.Severity.from_cvss_score`. Temporal and environmental
metrics may follow the base ones; the base score ignores them. CVSS v2 and v4 vectors are not
scored here: they are a :class:`CvssError`, and the caller says so.
"""

from __future__ import annotations

from cvss import CVSS3, CVSS3Error


class CvssError(ValueError):
    """The text is not a CVSS v3.0/v3.1 vector (the message says what is wrong)."""


def base_score(vector: str) -> float:
    """The CVSS v3.x base score of ``vector``, 0.0 to 10.0 with one decimal.

    Surrounding whitespace is ignored; anything the specification does not allow (another
    version, a missing base metric, an unknown or repeated metric, a bad value) is a
    :class:`CvssError`.
    """
    try:
        return float(CVSS3(vector.strip()).base_score)
    except CVSS3Error as exc:
        raise CvssError(f"{vector!r} is not a CVSS v3.0/v3.1 vector: {exc}") from None
