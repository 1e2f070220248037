"""Support cases: the workflow (`workflow`), documents, disbursements (money out) and the
public results page."""
