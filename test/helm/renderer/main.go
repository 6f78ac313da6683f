// Command renderer renders a Helm chart the way `helm template` does, without Helm: Go's
// text/template with sprig (Debian's golang-github-masterminds-sprig-dev) plus the handful of
// functions and built-in objects Helm adds (include, tpl, required, toYaml, fromYaml, toJson,
// fromJson, lookup, .Release, .Chart, .Capabilities, .Files, .Template). It exists so that the
// chart is checked by the same template engine Helm uses, on machines that have no helm binary.
//
// Output is one JSON document on stdout: the merged values (validated against
// values.schema.json by the caller, as Helm would), every rendered template by source path, and
// NOTES.txt. Any template error exits 1 with Helm-like text on stderr.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"gopkg.in/yaml.v3"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// kubeVersion mirrors Helm's chartutil.KubeVersion fields used by charts.
type kubeVersion struct {
	Version    string
	Major      string
	Minor      string
	GitVersion string
}

func (k kubeVersion) String() string { return k.Version }

// apiVersions mirrors Helm's chartutil.VersionSet: `.Capabilities.APIVersions.Has "x/v1"`.
type apiVersions []string

func (a apiVersions) Has(v string) bool {
	for _, x := range a {
		if x == v {
			return true
		}
	}
	return false
}

type capabilities struct {
	KubeVersion kubeVersion
	APIVersions apiVersions
	HelmVersion map[string]string
}

// chartFiles mirrors Helm's .Files: every non-template file of the chart, by relative path.
type chartFiles map[string][]byte

func (f chartFiles) Get(name string) string      { return string(f[name]) }
func (f chartFiles) GetBytes(name string) []byte { return f[name] }

type renderedTemplate struct {
	Source  string `json:"source"`
	Content string `json:"content"`
}

type output struct {
	Values map[string]interface{} `json:"values"`
	// Error is a template failure; the values are still printed so that the caller can check
	// them against values.schema.json first, as Helm does before it renders anything.
	Error     string             `json:"error,omitempty"`
	Templates []renderedTemplate `json:"templates"`
	Notes     string             `json:"notes"`
}

// builtinAPIVersions is what a v1.31 cluster serves among the groups a chart may ask about.
var builtinAPIVersions = []string{
	"v1", "apps/v1", "policy/v1", "autoscaling/v1", "autoscaling/v2", "batch/v1",
	"networking.k8s.io/v1", "rbac.authorization.k8s.io/v1", "coordination.k8s.io/v1",
	"discovery.k8s.io/v1", "events.k8s.io/v1",
}

func main() {
	chartDir := flag.String("chart", "", "chart directory")
	releaseName := flag.String("name", "release-name", "release name")
	namespace := flag.String("namespace", "default", "release namespace")
	kube := flag.String("kube-version", "v1.31.0", "Kubernetes version for .Capabilities")
	var valueFiles, extraAPIs multiFlag
	flag.Var(&valueFiles, "f", "values file (repeatable, later wins)")
	flag.Var(&extraAPIs, "api-versions", "extra API version for .Capabilities (repeatable)")
	flag.StringVar(&lookupFile, "lookup", "", "JSON list of objects `lookup` finds (as on `helm upgrade` against a cluster holding them); default none, like `helm template`")
	flag.Parse()
	if *chartDir == "" {
		fail(errors.New("--chart is required"))
	}
	out, err := render(*chartDir, *releaseName, *namespace, *kube, valueFiles, extraAPIs)
	if err != nil {
		if out == nil {
			fail(err)
		}
		out = &output{Values: out.Values, Templates: []renderedTemplate{}, Error: err.Error()}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "Error:", err)
	os.Exit(1)
}

func render(chartDir, releaseName, namespace, kube string, valueFiles, extraAPIs []string) (*output, error) {
	meta, err := readYAMLFile(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		return nil, fmt.Errorf("Chart.yaml: %w", err)
	}
	chartName, _ := meta["name"].(string)
	if chartName == "" {
		return nil, errors.New("Chart.yaml: name is required")
	}
	values, err := readYAMLFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		return nil, fmt.Errorf("values.yaml: %w", err)
	}
	for _, file := range valueFiles {
		override, err := readYAMLFile(file)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		values = coalesce(values, override)
	}

	templates, files, err := readChart(chartDir)
	if err != nil {
		return nil, err
	}
	valuesOnly := &output{Values: values}

	major, minor := splitKubeVersion(kube)
	top := map[string]interface{}{
		"Values": values,
		"Release": map[string]interface{}{
			"Name": releaseName, "Namespace": namespace, "Service": "Helm",
			"IsInstall": true, "IsUpgrade": false, "Revision": 1,
		},
		"Chart": chartObject(meta),
		"Capabilities": capabilities{
			KubeVersion: kubeVersion{Version: kube, Major: major, Minor: minor, GitVersion: kube},
			APIVersions: append(append(apiVersions{}, builtinAPIVersions...), extraAPIs...),
			HelmVersion: map[string]string{"Version": "v3.16.0"},
		},
		"Files": files,
	}

	root := template.New("gotpl")
	root.Option("missingkey=zero")
	root.Funcs(funcMap(root))
	names := make([]string, 0, len(templates))
	for name := range templates {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, err := root.New(chartName + "/" + name).Parse(templates[name]); err != nil {
			return valuesOnly, fmt.Errorf("parse error in %s: %w", name, err)
		}
	}

	out := &output{Values: values, Templates: []renderedTemplate{}}
	for _, name := range names {
		base := path.Base(name)
		if strings.HasPrefix(base, "_") {
			continue
		}
		full := chartName + "/" + name
		data := shallowCopy(top)
		data["Template"] = map[string]interface{}{"Name": full, "BasePath": chartName + "/templates"}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, full, data); err != nil {
			return valuesOnly, err
		}
		// Helm blanks what missingkey=zero prints for absent map keys.
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		if base == "NOTES.txt" {
			out.Notes = text
			continue
		}
		if err := checkYAML(full, text); err != nil {
			return valuesOnly, err
		}
		if strings.TrimSpace(text) != "" {
			out.Templates = append(out.Templates, renderedTemplate{Source: full, Content: text})
		}
	}
	return out, nil
}

func splitKubeVersion(v string) (string, string) {
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) < 2 {
		return "1", "31"
	}
	return parts[0], parts[1]
}

// chartObject gives .Chart the field names of Helm's chart.Metadata (Name, Version, AppVersion…).
func chartObject(meta map[string]interface{}) map[string]interface{} {
	obj := map[string]interface{}{}
	for k, v := range meta {
		key := strings.ToUpper(k[:1]) + k[1:]
		if k == "apiVersion" {
			key = "APIVersion"
		}
		obj[key] = v
	}
	return obj
}

func readChart(chartDir string) (map[string]string, chartFiles, error) {
	templates := map[string]string{}
	files := chartFiles{}
	err := filepath.WalkDir(chartDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(chartDir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		content, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.HasPrefix(rel, "templates/") {
			templates[rel] = string(content)
		} else {
			files[rel] = content
		}
		return nil
	})
	return templates, files, err
}

// checkYAML refuses output that is not a stream of YAML mappings, as `helm install` would.
func checkYAML(source, text string) error {
	dec := yaml.NewDecoder(strings.NewReader(text))
	for {
		var doc interface{}
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("YAML parse error on %s: %w", source, err)
		}
		if doc == nil {
			continue
		}
		if _, ok := doc.(map[string]interface{}); !ok {
			return fmt.Errorf("YAML parse error on %s: a document is not a mapping", source)
		}
	}
}

func readYAMLFile(file string) (map[string]interface{}, error) {
	content, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return parseYAMLMap(string(content))
}

// parseYAMLMap decodes YAML as Helm does (sigs.k8s.io/yaml: through JSON), so numbers become
// float64 and templates meet the same types they would under Helm.
func parseYAMLMap(text string) (map[string]interface{}, error) {
	var raw interface{}
	if err := yaml.Unmarshal([]byte(text), &raw); err != nil {
		return nil, err
	}
	if raw == nil {
		return map[string]interface{}{}, nil
	}
	asJSON, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	var m map[string]interface{}
	if err := json.Unmarshal(asJSON, &m); err != nil {
		return nil, errors.New("top level is not a mapping")
	}
	return m, nil
}

// coalesce merges override into base the way Helm merges -f files: maps merge key by key, any
// other value replaces, and null deletes the key.
func coalesce(base, override map[string]interface{}) map[string]interface{} {
	out := shallowCopy(base)
	for k, v := range override {
		if v == nil {
			delete(out, k)
			continue
		}
		bm, bok := out[k].(map[string]interface{})
		om, ook := v.(map[string]interface{})
		if bok && ook {
			out[k] = coalesce(bm, om)
		} else {
			out[k] = v
		}
	}
	return out
}

func shallowCopy(m map[string]interface{}) map[string]interface{} {
	out := make(map[string]interface{}, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func toYAML(v interface{}) string {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// --lookup: the file of objects lookup answers from.
var lookupFile string

func funcMap(root *template.Template) template.FuncMap {
	f := sprig.TxtFuncMap()
	// Helm removes these so a chart cannot read the machine it is rendered on.
	delete(f, "env")
	delete(f, "expandenv")

	f["toYaml"] = toYAML
	f["fromYaml"] = func(s string) map[string]interface{} {
		m, err := parseYAMLMap(s)
		if err != nil {
			return map[string]interface{}{"Error": err.Error()}
		}
		return m
	}
	f["toJson"] = func(v interface{}) string {
		b, err := json.Marshal(v)
		if err != nil {
			return ""
		}
		return string(b)
	}
	f["fromJson"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	f["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return v, errors.New(msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return v, errors.New(msg)
		}
		return v, nil
	}
	f["include"] = func(name string, data interface{}) (string, error) {
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, name, data); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
	f["tpl"] = func(text string, data interface{}) (string, error) {
		clone, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err := clone.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, data); err != nil {
			return "", err
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	// No cluster to look in: Helm's `template` answers lookup with an empty map too. With
	// --lookup, the objects of that file stand for the cluster (one object by name; no list).
	f["lookup"] = func(apiVersion, kind, namespace, name string) (map[string]interface{}, error) {
		if lookupFile == "" {
			return map[string]interface{}{}, nil
		}
		text, err := os.ReadFile(lookupFile)
		if err != nil {
			return nil, err
		}
		var objects []map[string]interface{}
		if err := json.Unmarshal(text, &objects); err != nil {
			return nil, err
		}
		for _, o := range objects {
			meta, _ := o["metadata"].(map[string]interface{})
			if o["apiVersion"] == apiVersion && o["kind"] == kind && meta["namespace"] == namespace && meta["name"] == name {
				return o, nil
			}
		}
		return map[string]interface{}{}, nil
	}
	return f
}
