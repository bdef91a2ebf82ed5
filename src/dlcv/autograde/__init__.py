"""The course's own grading command (``dlcv autograde``): sandboxed, tamper-proof, parallel."""
