package main

import (
	"encoding/json"
	"ignite"
)

type request struct {
	Name string `json:"name"`
}

func handler(payload []byte, ctx *ignite.Context) ([]byte, error) {
	var req request
	if err := json.Unmarshal(payload, &req); err != nil {
		return nil, err
	}
	if req.Name == "" {
		req.Name = "world"
	}
	return json.Marshal(map[string]string{
		"greeting":     "Hello, " + req.Name + "!",
		"execution_id": ctx.ExecutionID,
		"function_id":  ctx.FunctionID,
	})
}

func main() {
	ignite.Start(handler)
}
