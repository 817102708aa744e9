module bodies

go 1.26
