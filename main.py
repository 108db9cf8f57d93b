# Board entry point: only calls into the application (HOUSE_RULES 7).
try:
    import boardsel
except ImportError as e:  # a deploy cut off after its clean-up: the REPL stays free
    print("application missing (%s): redeploy" % e)
else:
    boardsel.main()
