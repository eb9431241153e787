"""slm-deploy's CrossGuard policy pack: validate functions in ``rules.py``, the pack in
``__main__.py`` (``pulumi preview --policy-pack policies``)."""
