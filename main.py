# Board entry point: only calls into the application (HOUSE_RULES 7).
import boardsel

boardsel.main()
