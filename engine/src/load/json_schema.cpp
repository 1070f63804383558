#include "runbook/schema.hpp"

namespace runbook {

namespace {

// Written by hand from the format document (runbook-format.md). Keep it in step
// with the loader: a key the loader accepts must be accepted here, and the
// other way round where JSON Schema can say it. `runbook schema` prints it and
// tests/integration/schema_test.cpp checks it against every example.
//
// Conventions: reusable pieces live in $defs and carry the description editors
// show; every map with fixed keys has additionalProperties: false and allows a
// YAML merge key "<<" (the merged keys are not checked by an editor that does
// not resolve merges). A step may take its run/exec/uses from `defaults`, so a
// step allows at most one of them and the root's if/else requires exactly one
// of every step only when `defaults` gives none.
constexpr std::string_view kSchema = R"json({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "urn:runbook:schema:runbook-format:1",
  "title": "runbook",
  "description": "A runbook (format version 1): parameters, settings and a DAG of steps. Print this schema with `runbook schema`; `runbook validate` is the final word.",
  "type": "object",
  "required": ["version", "name", "steps"],
  "additionalProperties": false,
  "if": {
    "required": ["defaults"],
    "properties": {"defaults": {"$ref": "#/$defs/has_action"}}
  },
  "else": {
    "properties": {
      "steps": {"items": {"$ref": "#/$defs/has_action"}},
      "hooks": {
        "properties": {
          "on_success": {"items": {"$ref": "#/$defs/has_action"}},
          "on_failure": {"items": {"$ref": "#/$defs/has_action"}},
          "finally": {"items": {"$ref": "#/$defs/has_action"}}
        }
      }
    }
  },
  "properties": {
    "<<": {"$ref": "#/$defs/merge"},
    "version": {
      "description": "The format version. Required; 1 is the only version today.",
      "const": 1
    },
    "name": {
      "description": "The runbook's name. Required; lowercase letters, digits, `_` and `-`, starting with a letter or digit.",
      "type": "string",
      "pattern": "^[a-z0-9][a-z0-9_-]*$"
    },
    "description": {
      "description": "What the runbook is for, for people.",
      "type": "string"
    },
    "params": {
      "description": "Parameters given with `-p NAME=VALUE`, a params file, a schedule or an alert rule; read as `${{ params.NAME }}`.",
      "type": "object",
      "properties": {"<<": {"$ref": "#/$defs/merge"}},
      "additionalProperties": {"$ref": "#/$defs/param"}
    },
    "env": {"$ref": "#/$defs/env", "description": "Added to every step's environment. Values may hold `${{ }}` templates."},
    "defaults": {"$ref": "#/$defs/defaults"},
    "max_parallel": {
      "description": "How many steps may run at once (default 4); `runbook run --max-parallel` overrides it.",
      "type": "integer",
      "minimum": 1
    },
    "timeout": {"$ref": "#/$defs/duration", "description": "Limit on the whole run, rollback excluded. A duration: `250ms`, `30s`, `5m`, `1h30m`, `2d`, or a number of seconds."},
    "lock": {
      "description": "A key (templates allowed): runs with the same key never overlap, across processes. `runbook run` exits 75 when the lock is held.",
      "type": "string"
    },
    "on_failure": {
      "description": "What happens after a step fails: `rollback` (default) runs the rollback of every started step, newest first; `stop` leaves it for a person (`runbook rollback RUN_ID`).",
      "enum": ["rollback", "stop"]
    },
    "steps": {
      "description": "The steps. Each starts when every step it `needs` ended well; steps with nothing in between may run in parallel.",
      "type": "array",
      "minItems": 1,
      "items": {"$ref": "#/$defs/step"}
    },
    "hooks": {"$ref": "#/$defs/hooks"}
  },
  "$defs": {
    "has_action": {
      "description": "Exactly one of run, exec, uses: required of every step unless `defaults` gives one.",
      "oneOf": [
        {"required": ["run"]},
        {"required": ["exec"]},
        {"required": ["uses"]}
      ]
    },
    "merge": {
      "description": "A YAML merge key: the keys of this map (or these maps) are merged in.",
      "anyOf": [
        {"type": "object"},
        {"type": "array", "items": {"type": "object"}}
      ]
    },
    "duration": {
      "description": "A duration: `250ms`, `30s`, `5m`, `1h30m`, `2d`, or a non-negative number of seconds.",
      "anyOf": [
        {"type": "string", "pattern": "^(([0-9]+(\\.[0-9]+)?(ms|s|m|h|d))+|[0-9]+(\\.[0-9]+)?)$"},
        {"type": "number", "minimum": 0}
      ]
    },
    "step_id": {
      "type": "string",
      "pattern": "^[a-z0-9][a-z0-9_-]*$"
    },
    "scalar": {
      "type": ["string", "number", "boolean"]
    },
    "exit_codes": {
      "description": "Process exit codes.",
      "type": "array",
      "items": {"type": "integer", "minimum": 1, "maximum": 255}
    },
    "env": {
      "description": "Environment variables, NAME: value. Values may hold `${{ }}` templates.",
      "type": "object",
      "properties": {"<<": {"$ref": "#/$defs/merge"}},
      "additionalProperties": {"$ref": "#/$defs/scalar"}
    },
    "param": {
      "description": "One parameter.",
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "<<": {"$ref": "#/$defs/merge"},
        "type": {
          "description": "`string` (default), `int`, `bool`, `list`, or `secret` (masked as *** everywhere the engine writes).",
          "enum": ["string", "int", "bool", "list", "secret"]
        },
        "required": {"description": "The run refuses to start without a value.", "type": "boolean"},
        "default": {"description": "The value when none is given."},
        "pattern": {"description": "A regular expression the whole value must match.", "type": "string"},
        "allowed": {"description": "The only values accepted.", "type": "array"},
        "min": {"description": "int: the smallest value; string and list: the shortest length.", "type": "number"},
        "max": {"description": "int: the largest value; string and list: the longest length.", "type": "number"},
        "description": {"description": "What the parameter is, for people.", "type": "string"},
        "env": {"description": "Secrets only: read the value from this environment variable.", "type": "string"},
        "file": {"description": "Secrets only: read the value from this file.", "type": "string"}
      },
      "allOf": [
        {
          "if": {"not": {"properties": {"type": {"const": "secret"}}, "required": ["type"]}},
          "then": {"properties": {"env": false, "file": false}}
        },
        {
          "if": {"properties": {"type": {"const": "int"}}, "required": ["type"]},
          "then": {"properties": {"default": {"type": "integer"}, "allowed": {"items": {"type": "integer"}}}}
        },
        {
          "if": {"properties": {"type": {"const": "bool"}}, "required": ["type"]},
          "then": {"properties": {"default": {"type": "boolean"}}}
        },
        {
          "if": {"properties": {"type": {"const": "list"}}, "required": ["type"]},
          "then": {"properties": {"default": {"type": "array"}}}
        },
        {
          "if": {"properties": {"type": {"enum": ["string", "secret"]}}},
          "then": {"properties": {"default": {"$ref": "#/$defs/scalar"}}}
        }
      ]
    },
    "run": {
      "description": "A shell script, run as `bash -eo pipefail -c SCRIPT` (or with `shell`). `${{ }}` values are passed as environment variables, never spliced into the code.",
      "type": "string"
    },
    "shell": {
      "description": "The interpreter for `run` instead of `bash -eo pipefail -c`.",
      "type": "string"
    },
    "exec": {
      "description": "An argv list run with no shell; a first item without `/` is looked up on PATH.",
      "type": "array",
      "minItems": 1,
      "items": {"$ref": "#/$defs/scalar"}
    },
    "uses": {
      "description": "A step kind provided by a plugin (`runbook plugins list`), e.g. `http`.",
      "type": "string"
    },
    "with": {
      "description": "The arguments of a `uses` step kind.",
      "type": "object"
    },
    "workdir": {
      "description": "The working directory of the step's process.",
      "type": "string"
    },
    "timeout": {"$ref": "#/$defs/duration", "description": "Limit on one attempt. A duration: `30s`, `5m`, or a number of seconds."},
    "kill_grace": {"$ref": "#/$defs/duration", "description": "Time between SIGTERM and SIGKILL when the step is stopped (default 10s)."},
    "retry": {
      "description": "Retries: a number of attempts, or `{attempts, delay, backoff, max_delay, jitter, on, exit_codes}`.",
      "oneOf": [
        {"type": "integer", "minimum": 1, "maximum": 10000},
        {
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "<<": {"$ref": "#/$defs/merge"},
            "attempts": {"description": "Attempts in all, the first one included (default 1).", "type": "integer", "minimum": 1, "maximum": 10000},
            "delay": {"$ref": "#/$defs/duration", "description": "Wait before the second attempt."},
            "backoff": {"description": "Factor applied to the delay after each attempt, 1 or more (default 1).", "type": "number", "minimum": 1},
            "max_delay": {"$ref": "#/$defs/duration", "description": "Upper bound on the delay."},
            "jitter": {"$ref": "#/$defs/duration", "description": "A random 0..jitter added to each delay."},
            "on": {
              "description": "What is retried: `failure` (default), `timeout`, or both.",
              "anyOf": [
                {"enum": ["failure", "timeout"]},
                {"type": "array", "items": {"enum": ["failure", "timeout"]}}
              ]
            },
            "exit_codes": {"$ref": "#/$defs/exit_codes", "description": "Retry only on these exit codes (default: any non-zero code)."}
          }
        }
      ]
    },
    "allow_failure": {
      "description": "`true`, or `{exit_codes: [..]}`: the step's failure does not fail the run.",
      "oneOf": [
        {"type": "boolean"},
        {
          "type": "object",
          "additionalProperties": false,
          "required": ["exit_codes"],
          "properties": {
            "<<": {"$ref": "#/$defs/merge"},
            "exit_codes": {"$ref": "#/$defs/exit_codes", "description": "Exit codes that count as an allowed failure."}
          }
        }
      ]
    },
    "body": {
      "description": "A step body: exactly one of `run`, `exec`, `uses`, with its settings.",
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "<<": {"$ref": "#/$defs/merge"},
        "run": {"$ref": "#/$defs/run"},
        "shell": {"$ref": "#/$defs/shell"},
        "exec": {"$ref": "#/$defs/exec"},
        "uses": {"$ref": "#/$defs/uses"},
        "with": {"$ref": "#/$defs/with"},
        "env": {"$ref": "#/$defs/env"},
        "workdir": {"$ref": "#/$defs/workdir"},
        "timeout": {"$ref": "#/$defs/timeout"},
        "retry": {"$ref": "#/$defs/retry"},
        "kill_grace": {"$ref": "#/$defs/kill_grace"}
      },
      "oneOf": [
        {"required": ["run"]},
        {"required": ["exec"]},
        {"required": ["uses"]}
      ]
    },
    "step": {
      "description": "A step: an `id` and exactly one of `run`, `exec`, `uses` (its own, or one from `defaults`).",
      "type": "object",
      "additionalProperties": false,
      "required": ["id"],
      "properties": {
        "<<": {"$ref": "#/$defs/merge"},
        "id": {"$ref": "#/$defs/step_id", "description": "Unique in the runbook: lowercase letters, digits, `_` and `-`."},
        "name": {"description": "A title for people.", "type": "string"},
        "description": {"description": "What the step does, for people.", "type": "string"},
        "run": {"$ref": "#/$defs/run"},
        "shell": {"$ref": "#/$defs/shell"},
        "exec": {"$ref": "#/$defs/exec"},
        "uses": {"$ref": "#/$defs/uses"},
        "with": {"$ref": "#/$defs/with"},
        "needs": {
          "description": "Ids of the steps this one waits for: one id or a list.",
          "anyOf": [
            {"$ref": "#/$defs/step_id"},
            {"type": "array", "items": {"$ref": "#/$defs/step_id"}}
          ]
        },
        "when": {
          "description": "An expression (no `${{ }}` needed); when false the step is `skipped`.",
          "type": ["string", "boolean"]
        },
        "env": {"$ref": "#/$defs/env"},
        "workdir": {"$ref": "#/$defs/workdir"},
        "timeout": {"$ref": "#/$defs/timeout"},
        "deadline": {"$ref": "#/$defs/duration", "description": "Limit on the step as a whole: every attempt and delay included."},
        "retry": {"$ref": "#/$defs/retry"},
        "allow_failure": {"$ref": "#/$defs/allow_failure"},
        "rollback": {
          "description": "Undoes the step after a failed run: a script, or a step body (`run`/`exec`/`uses`, `with`, `env`, `workdir`, `timeout`, `retry`, `shell`, `kill_grace`).",
          "anyOf": [
            {"type": "string"},
            {"$ref": "#/$defs/body"}
          ]
        },
        "confirm": {
          "description": "A question asked on the terminal before the step starts; without a terminal the run needs `--yes`.",
          "type": "string"
        },
        "for_each": {
          "description": "An expression giving a list, or a list: the step runs once per item, with `${{ item }}` and `${{ index }}`.",
          "anyOf": [{"type": "string"}, {"type": "array"}]
        },
        "max_parallel": {
          "description": "With `for_each`: how many items run at once.",
          "type": "integer",
          "minimum": 1
        },
        "kill_grace": {"$ref": "#/$defs/kill_grace"},
        "idempotent": {
          "description": "Running the step twice does no harm: `runbook resume` may re-run it after a crash.",
          "type": "boolean"
        }
      },
      "not": {
        "description": "At most one of run, exec, uses.",
        "anyOf": [
          {"required": ["run", "exec"]},
          {"required": ["run", "uses"]},
          {"required": ["exec", "uses"]}
        ]
      }
    },
    "defaults": {
      "description": "Default values for step fields, e.g. `timeout`, `retry`, `env`, `kill_grace`; a step's own value wins.",
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "<<": {"$ref": "#/$defs/merge"},
        "name": {"type": "string"},
        "description": {"type": "string"},
        "run": {"$ref": "#/$defs/run"},
        "shell": {"$ref": "#/$defs/shell"},
        "exec": {"$ref": "#/$defs/exec"},
        "uses": {"$ref": "#/$defs/uses"},
        "with": {"$ref": "#/$defs/with"},
        "needs": {"$ref": "#/$defs/step/properties/needs"},
        "when": {"$ref": "#/$defs/step/properties/when"},
        "env": {"$ref": "#/$defs/env"},
        "workdir": {"$ref": "#/$defs/workdir"},
        "timeout": {"$ref": "#/$defs/timeout"},
        "deadline": {"$ref": "#/$defs/step/properties/deadline"},
        "retry": {"$ref": "#/$defs/retry"},
        "allow_failure": {"$ref": "#/$defs/allow_failure"},
        "rollback": {"$ref": "#/$defs/step/properties/rollback"},
        "confirm": {"$ref": "#/$defs/step/properties/confirm"},
        "for_each": {"$ref": "#/$defs/step/properties/for_each"},
        "max_parallel": {"$ref": "#/$defs/step/properties/max_parallel"},
        "kill_grace": {"$ref": "#/$defs/kill_grace"},
        "idempotent": {"$ref": "#/$defs/step/properties/idempotent"}
      }
    },
    "hooks": {
      "description": "Steps run after the graph, each list in order: `on_success` or `on_failure` (after rollback), then `finally`.",
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "<<": {"$ref": "#/$defs/merge"},
        "on_success": {"description": "After the graph succeeded.", "type": "array", "items": {"$ref": "#/$defs/step"}},
        "on_failure": {"description": "After rollback, when the run failed or was cancelled.", "type": "array", "items": {"$ref": "#/$defs/step"}},
        "finally": {"description": "Always, last.", "type": "array", "items": {"$ref": "#/$defs/step"}}
      }
    }
  }
}
)json";

}  // namespace

std::string_view runbook_json_schema() {
  return kSchema;
}

}  // namespace runbook
