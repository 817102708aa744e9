// Command ignite-gocheck checks the source of an Ignite Go function before it is built, using the Go
// toolchain's own parser. It reports layout problems (main.go, package main, func main calling ignite.Start,
// the "ignite" import), syntax errors and cgo use, each with a message meant for the user.
//
// Usage: ignite-gocheck [-module path] DIR
//
// It prints one JSON object on stdout, {"problems":[{"pos":"./main.go:3:9","message":"..."}]}, and exits 0
// whenever it could look at DIR (an empty list means the source is fine). Exit status 2 means it could not
// run (bad usage, unreadable directory); the reason is on stderr.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/scanner"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

type problem struct {
	Pos     string `json:"pos,omitempty"`
	Message string `json:"message"`
}

type checker struct {
	dir      string
	module   string
	fset     *token.FileSet
	ctx      build.Context
	problems []problem
	// Import paths of the build that neither the standard library nor the user's module provide (their
	// first element has a dot), gathered while walking the module's packages; known only with a module path.
	external      map[string]bool
	importsKnown  bool
}

// The first errors of a file are the useful ones; later ones are mostly consequences.
const maxSyntaxErrorsPerFile = 3

func main() {
	module := flag.String("module", "", "module path to assume when DIR has no go.mod")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: ignite-gocheck [-module path] DIR")
		os.Exit(2)
	}
	dir := flag.Arg(0)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		fmt.Fprintf(os.Stderr, "ignite-gocheck: %s is not a directory\n", dir)
		os.Exit(2)
	}
	ctx := build.Default
	ctx.GOOS, ctx.GOARCH = "linux", "amd64"
	ctx.CgoEnabled = true // so that cgo files are seen and reported rather than silently skipped
	c := &checker{dir: dir, module: *module, fset: token.NewFileSet(), ctx: ctx}
	c.run()
	external := []string{}
	for p := range c.external {
		external = append(external, p)
	}
	sort.Strings(external)
	out, _ := json.Marshal(struct {
		Problems        []problem `json:"problems"`
		ImportsKnown    bool      `json:"importsKnown"`
		ExternalImports []string  `json:"externalImports"`
	}{Problems: append([]problem{}, c.problems...), ImportsKnown: c.importsKnown, ExternalImports: external})
	os.Stdout.Write(append(out, '\n'))
}

func (c *checker) add(pos token.Pos, format string, args ...any) {
	p := problem{Message: fmt.Sprintf(format, args...)}
	if pos.IsValid() {
		p.Pos = c.position(c.fset.Position(pos))
	}
	c.problems = append(c.problems, p)
}

// position renders a position like the compiler does for a build in DIR: ./main.go:3:9.
func (c *checker) position(p token.Position) string {
	rel, err := filepath.Rel(c.dir, p.Filename)
	if err != nil {
		rel = p.Filename
	}
	s := "./" + filepath.ToSlash(rel)
	if p.Line > 0 {
		s += fmt.Sprintf(":%d:%d", p.Line, p.Column)
	}
	return s
}

func (c *checker) run() {
	c.checkGoMod()
	files := c.parsePackage(c.dir)
	c.checkRoot(files)
	c.checkLocalImports(files)
}

// checkGoMod reads the module path (go.mod is optional: the build creates it when missing).
func (c *checker) checkGoMod() {
	p := filepath.Join(c.dir, "go.mod")
	st, err := os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err != nil || !st.Mode().IsRegular() {
		c.problems = append(c.problems, problem{Pos: "./go.mod", Message: "go.mod must be a regular file"})
		return
	}
	data, err := os.ReadFile(p)
	if err != nil {
		c.problems = append(c.problems, problem{Pos: "./go.mod", Message: "go.mod cannot be read: " + err.Error()})
		return
	}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "module") {
			continue
		}
		rest := strings.TrimSpace(strings.TrimPrefix(line, "module"))
		if idx := strings.Index(rest, "//"); idx >= 0 {
			rest = strings.TrimSpace(rest[:idx])
		}
		if unq, err := strconv.Unquote(rest); err == nil {
			rest = unq
		}
		if rest == "" || rest == "(" {
			continue
		}
		c.module = rest
		if rest == "ignite" || strings.HasPrefix(rest, "ignite/") {
			c.problems = append(c.problems, problem{Pos: fmt.Sprintf("./go.mod:%d", i+1), Message: fmt.Sprintf(
				"go.mod declares module %q, but \"ignite\" is the Ignite SDK's module path; rename your module (for example `module hello`)", rest)})
		}
		return
	}
}

type parsedFile struct {
	name string // base name
	file *ast.File
}

// parsePackage parses the .go files of one directory that `go build` would compile for linux/amd64,
// reporting syntax errors and cgo use.
func (c *checker) parsePackage(dir string) []parsedFile {
	entries, err := os.ReadDir(dir)
	if err != nil {
		c.problems = append(c.problems, problem{Message: "cannot read " + c.position(token.Position{Filename: dir}) + ": " + err.Error()})
		return nil
	}
	var files []parsedFile
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") ||
			strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
			continue
		}
		full := filepath.Join(dir, name)
		if st, err := os.Stat(full); err != nil || !st.Mode().IsRegular() {
			continue
		}
		if ok, err := c.ctx.MatchFile(dir, name); err != nil || !ok {
			if err == nil && dir == c.dir && name == "main.go" {
				c.problems = append(c.problems, problem{Pos: "./main.go", Message: "main.go is excluded from the build by its build constraints (//go:build or a _GOOS/_GOARCH suffix); remove them so main.go is compiled for linux/amd64"})
			}
			continue
		}
		f, err := parser.ParseFile(c.fset, full, nil, parser.SkipObjectResolution)
		if err != nil {
			var list scanner.ErrorList
			if errors.As(err, &list) {
				list.RemoveMultiples() // one error per line, like the compiler
				for i, e := range list {
					if i == maxSyntaxErrorsPerFile {
						c.problems = append(c.problems, problem{Pos: c.position(token.Position{Filename: full}), Message: fmt.Sprintf("(%d more syntax errors)", len(list)-i)})
						break
					}
					c.problems = append(c.problems, problem{Pos: c.position(e.Pos), Message: "syntax error: " + e.Msg})
				}
			} else {
				c.problems = append(c.problems, problem{Pos: c.position(token.Position{Filename: full}), Message: err.Error()})
			}
			if f == nil {
				continue
			}
		}
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == "C" {
				c.add(imp.Pos(), "cgo is not supported (import \"C\"): Ignite builds Go with CGO_ENABLED=0; use pure-Go packages instead")
			}
		}
		files = append(files, parsedFile{name: name, file: f})
	}
	return files
}

func importName(spec *ast.ImportSpec) string {
	if spec.Name != nil {
		return spec.Name.Name
	}
	return "ignite"
}

func importsIgnite(f *ast.File) *ast.ImportSpec {
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == "ignite" {
			return imp
		}
	}
	return nil
}

func (c *checker) checkRoot(files []parsedFile) {
	var mainFile *ast.File
	for _, f := range files {
		if f.name == "main.go" {
			mainFile = f.file
		}
	}
	if mainFile == nil {
		if _, err := os.Stat(filepath.Join(c.dir, "main.go")); err == nil {
			return // present but unparsable or excluded: already reported
		}
		msg := "no main.go at the archive root; the entry point must be main.go with `package main` and a `func main()` that calls ignite.Start(handler)"
		if nested := c.findNestedMain(); nested != "" {
			msg += fmt.Sprintf(" (found %s: archive the contents of that folder, not the folder itself)", nested)
		}
		c.problems = append(c.problems, problem{Message: msg})
		return
	}
	if mainFile.Name.Name != "main" {
		c.add(mainFile.Name.Pos(), "main.go must declare `package main` (found `package %s`)", mainFile.Name.Name)
	}
	for _, f := range files {
		if f.name != "main.go" && f.file.Name.Name != "main" && f.file.Name.Name != mainFile.Name.Name {
			c.add(f.file.Name.Pos(), "%s declares `package %s`, but every .go file at the root must be `package main`", f.name, f.file.Name.Name)
		}
	}
	// func main, and the call to ignite.Start inside it.
	var mainDecl *ast.FuncDecl
	var mainDeclFile *ast.File
	igniteImported := false
	for _, f := range files {
		if importsIgnite(f.file) != nil {
			igniteImported = true
		}
		for _, d := range f.file.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.Name == "main" && mainDecl == nil {
				mainDecl, mainDeclFile = fd, f.file
			}
		}
	}
	if !igniteImported {
		c.add(mainFile.Name.Pos(), "no .go file at the root imports \"ignite\"; add `import \"ignite\"` to main.go (the platform provides the SDK)")
	}
	if mainDecl == nil {
		if mainFile.Name.Name == "main" {
			c.add(mainFile.Name.Pos(), "package main has no `func main()`; add `func main() { ignite.Start(handler) }` to main.go")
		}
		return
	}
	imp := importsIgnite(mainDeclFile)
	if imp == nil {
		if igniteImported {
			c.add(mainDecl.Name.Pos(), "func main() must call ignite.Start(handler), but its file does not import \"ignite\"")
		}
		return
	}
	if mainDecl.Body == nil || !callsStart(mainDecl.Body, importName(imp)) {
		c.add(mainDecl.Name.Pos(), "func main() does not call ignite.Start; call ignite.Start(handler) in func main() so the platform can serve your handler")
	}
}

func callsStart(body *ast.BlockStmt, local string) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || found {
			return !found
		}
		switch fn := call.Fun.(type) {
		case *ast.SelectorExpr:
			if id, ok := fn.X.(*ast.Ident); ok && id.Name == local && fn.Sel.Name == "Start" {
				found = true
			}
		case *ast.Ident:
			if local == "." && fn.Name == "Start" {
				found = true
			}
		}
		return !found
	})
	return found
}

// findNestedMain looks one level down for a main.go, the usual sign of an archive of the folder itself.
func (c *checker) findNestedMain() string {
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return ""
	}
	for _, e := range entries {
		if e.IsDir() {
			if _, err := os.Stat(filepath.Join(c.dir, e.Name(), "main.go")); err == nil {
				return e.Name() + "/main.go"
			}
		}
	}
	return ""
}

// checkLocalImports parses the packages of the user's module that the root package imports (transitively),
// so that syntax errors and cgo anywhere in the build are reported too.
func (c *checker) checkLocalImports(root []parsedFile) {
	if c.module == "" {
		return
	}
	c.importsKnown = true
	c.external = map[string]bool{}
	seen := map[string]bool{".": true}
	var queue []string
	enqueue := func(files []parsedFile) {
		var next []string
		for _, f := range files {
			for _, imp := range f.file.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				if p != c.module && !strings.HasPrefix(p, c.module+"/") {
					// Go reserves paths whose first element has no dot for the standard library.
					if first, _, _ := strings.Cut(p, "/"); strings.Contains(first, ".") {
						c.external[p] = true
					}
					continue
				}
				rel := strings.TrimPrefix(strings.TrimPrefix(p, c.module), "/")
				rel = path.Clean("./" + rel)
				if !seen[rel] {
					seen[rel] = true
					next = append(next, rel)
				}
			}
		}
		sort.Strings(next)
		queue = append(queue, next...)
	}
	enqueue(root)
	for len(queue) > 0 {
		rel := queue[0]
		queue = queue[1:]
		dir := filepath.Join(c.dir, filepath.FromSlash(rel))
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			continue // the compiler reports missing packages with their import position
		}
		enqueue(c.parsePackage(dir))
	}
}
