"""The masking engine: JSON layout, detection, pseudonyms, assignment, splice and the restore map.

Pure computation on bytes and strings: it imports nothing from ``agent.service`` or ``agent.cli``,
which both use it through ``Masker.mask_body`` (``results.MaskResult`` / ``results.MaskRefused``).
"""
