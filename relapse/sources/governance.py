"""placeholder while in development"""
SOURCES: tuple = ()
