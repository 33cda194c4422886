"""The steward: the system user that applies compiled Concord permissions
(DESIGN.md "Concord layer"), and the ``im.concord`` actions that span several rooms."""
