# Kept tiny on purpose: everything happens in main.py.
