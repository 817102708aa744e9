module ignite-gocheck

go 1.26
