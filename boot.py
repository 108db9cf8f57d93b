# Kept tiny on purpose: everything happens in main.py. The application's image
# is mounted here so that every soft reset (an mpremote session too) can import it.
try:
    import appimage

    appimage.mount()
except ImportError:  # a loose tree copied by hand: imported from the filesystem as is
    pass
except Exception as e:  # a damaged loader: nothing of the application can be trusted to run
    print("app image loader failed:", e)
