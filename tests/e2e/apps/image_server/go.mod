module imageserver

go 1.26
