def broken(:
    pass

os.system("ls")
