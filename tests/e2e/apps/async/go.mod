module asyncapp

go 1.26
