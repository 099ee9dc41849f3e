"""forvalg: the incumbent's carrier-preselection wholesale platform behind an information wall."""

__version__ = "0.1.0"
