# Kept tiny on purpose: everything happens in main.py. The application's ROMFS image
# is checked here, before any of it is imported, so that every soft reset (an mpremote
# session too) either runs the checked image first on sys.path or cannot import it at all.
try:
    import boardsel

    boardsel.check_image()
except ImportError:  # the loader is gone (a deploy cut off after its clean-up): main.py says so
    pass
except Exception as e:  # a damaged loader: nothing of the application can be trusted to run
    print("app image check failed:", e)
