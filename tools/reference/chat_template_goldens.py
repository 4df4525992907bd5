#!/usr/bin/env python3
"""Regenerates tests/golden/chat_templates/*.json: chat templates rendered by transformers.

Each golden file holds one template, the special tokens it is rendered with, named message
sets, and cases (message set + options) with the exact string transformers 4.57.3 renders, or
the exception it raises. tests/unit/generation/chat_template_golden_test.cc replays them.

Templates:
  * every chat_template in ../shared/data/tokenizers/*/tokenizer_config.json, rendered through
    AutoTokenizer.apply_chat_template (special tokens from the tokenizer's special_tokens_map);
  * SmolLM2-135M-Instruct's template, read from the GGUF's tokenizer.chat_template;
  * public templates copied from popular tokenizer_config.json files (source noted per entry);
  * hand-written feature templates exercising one Jinja feature area each.
The latter three are rendered with transformers.utils.chat_template_utils.render_jinja_template,
the function apply_chat_template calls, with the same special-token kwargs.

    ~/.cache/mlhub/pyenv/bin/python tools/reference/chat_template_goldens.py
"""
import glob
import json
import os
import sys

from transformers import AutoTokenizer
from transformers.utils.chat_template_utils import render_jinja_template

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
if not os.path.isdir(os.path.join(SHARED, "data")):
    SHARED = "/work/shared"
OUT = os.path.join(ROOT, "tests", "golden", "chat_templates")
GGUF = os.path.expanduser("~/.cache/mlhub/models/SmolLM2-135M-Instruct.Q4_1.gguf")

# ---- message sets -------------------------------------------------------------------------------

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, e.g. Paris"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
}
TIME_TOOL = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "Current time — in a timezone (ünïcode).",
        "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}, "required": []},
    },
}

MESSAGE_SETS = {
    "single_user": [{"role": "user", "content": "Hello!"}],
    "system_user": [
        {"role": "system", "content": "You are a terse assistant."},
        {"role": "user", "content": "What is 2+2?"},
    ],
    "multi_turn": [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "Hi there"},
        {"role": "assistant", "content": "Hello! How can I help?"},
        {"role": "user", "content": "Tell me a joke."},
    ],
    "user_assistant": [
        {"role": "user", "content": "Hi there"},
        {"role": "assistant", "content": "Hello! How can I help?"},
        {"role": "user", "content": "Tell me a joke."},
        {"role": "assistant", "content": "Why did the chicken cross the road?"},
    ],
    "assistant_prefill": [
        {"role": "user", "content": "Write a haiku."},
        {"role": "assistant", "content": "Autumn moonlight—"},
    ],
    "assistant_prefill_space": [
        {"role": "user", "content": "Count to three."},
        {"role": "assistant", "content": "  One, two, "},
    ],
    "unicode": [
        {"role": "system", "content": "Réponds en français. 你好 🌍"},
        {
            "role": "user",
            "content": "Quotes: \"double\" and 'single', back\\slash, tab\there,\nnew line, "
            "</s> <|im_end|> {{ not a tag }} {% nor this %} — émoji 🎉\u00a0nbsp",
        },
    ],
    "whitespace": [
        {"role": "user", "content": "  padded with spaces  \n\n"},
        {"role": "assistant", "content": "\n\tindented answer\t\n"},
        {"role": "user", "content": ""},
    ],
    "empty_content": [{"role": "user", "content": ""}],
    "leading_assistant": [
        {"role": "assistant", "content": "I speak first."},
        {"role": "user", "content": "OK"},
    ],
    "multimodal": [
        {
            "role": "user",
            "content": [
                {"type": "image"},
                {"type": "text", "text": "What is in this picture?"},
            ],
        },
        {"role": "assistant", "content": [{"type": "text", "text": "A cat on a mat."}]},
    ],
    "tool_calls": [
        {"role": "system", "content": "You can call tools."},
        {"role": "user", "content": "Weather in Paris and the time in Tokyo?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}},
                },
                {"type": "function", "function": {"name": "get_time", "arguments": {"tz": "Asia/Tokyo"}}},
            ],
        },
        {"role": "tool", "name": "get_weather", "content": "{\"temp\": 21.5, \"sky\": \"clear\"}"},
        {"role": "tool", "name": "get_time", "content": "09:30"},
        {"role": "assistant", "content": "Paris: 21.5°C and clear. Tokyo: 09:30."},
        {"role": "user", "content": "Thanks!"},
    ],
    "tool_call_string_args": [
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "content": "Let me check.",
            "tool_calls": [
                {"type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Oslo\"}"}}
            ],
        },
        {"role": "tool", "content": "snow"},
    ],
}

BASIC_SETS = ["single_user", "system_user", "multi_turn", "user_assistant", "unicode", "whitespace",
              "empty_content", "leading_assistant"]
PREFILL_SETS = ["assistant_prefill", "assistant_prefill_space", "user_assistant"]
TOOL_SETS = ["tool_calls", "tool_call_string_args"]

# ---- public templates (factual copies of published tokenizer_config.json chat_template) --------

PUBLIC = {
    # teknium/OpenHermes-2.5-Mistral-7B tokenizer_config.json (ChatML)
    "chatml": (
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
        "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}",
        {"bos_token": "<s>", "eos_token": "<|im_end|>"},
    ),
    # mistralai/Mistral-7B-Instruct-v0.1 tokenizer_config.json
    "mistral_instruct_v0_1": (
        "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
        "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
        "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
        "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token + ' ' }}"
        "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}",
        {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"},
    ),
    # google/gemma-7b-it tokenizer_config.json
    "gemma_it": (
        "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
        "{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
        "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
        "{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}"
        "{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}"
        "{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}",
        {"bos_token": "<bos>", "eos_token": "<eos>", "unk_token": "<unk>", "pad_token": "<pad>"},
    ),
    # hf-internal-testing/llama-tokenizer tokenizer_config.json (the Llama-2 chat template with
    # the USE_DEFAULT_PROMPT switch); Jinja-level "\\n" escapes as in the file.
    "llama2_chat": (
        "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}"
        "{% elif USE_DEFAULT_PROMPT == true and not '<<SYS>>' in messages[0]['content'] %}{% set loop_messages = messages %}"
        "{% set system_message = 'DEFAULT_SYSTEM_MESSAGE' %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}"
        "{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
        "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
        "{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
        "{% else %}{% set content = message['content'] %}{% endif %}"
        "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
        "{% elif message['role'] == 'system' %}{{ '<<SYS>>\\n' + content.strip() + '\\n<</SYS>>\\n\\n' }}"
        "{% elif message['role'] == 'assistant' %}{{ ' ' + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}",
        {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"},
    ),
}

# ---- hand-written feature templates --------------------------------------------------------------
# Each exercises one area of the Jinja subset; cases use the message sets named in the tuple.

FEATURES = {
    "whitespace_control": (
        "{% if true %}\n  kept line\n{% endif %}\n"
        "  {%- if true -%}  stripped both sides  {%- endif -%}\n"
        " {{ 'var' }} \n"
        "{# a comment #}\n"
        "after comment\n"
        "    {# indented comment #}\n"
        "x{%+ if true %} plus-lstrip{% endif +%}\n"
        "    {% if true %}\n    indented block\n    {% endif %}\n"
        "{{- ' dash-var ' -}}\n   \n"
        "{% raw %}{{ raw }} {% if %}{% endraw %}\n"
        "  {%- raw -%}  raw2  {%- endraw -%}  \n"
        "\t{% for m in messages %}\t[{{ m.role }}]\n\t{% endfor %}\n"
        "{%- for m in messages -%}\n  ({{ m['content'] }})\n{%- endfor %}\r\ncrlf line\r\n"
        "end\n",
        ["single_user", "multi_turn"],
    ),
    "loops": (
        "{% for m in messages %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/"
        "{{ loop.length }}/{{ loop.first }}/{{ loop.last }}:{{ m.role }}"
        "{% if not loop.first %}<prev={{ loop.previtem.role }}>{% endif %}"
        "{% if not loop.last %}<next={{ loop.nextitem.role }}>{% endif %}"
        "{{ loop.cycle('odd', 'even') }};{% endfor %}\n"
        "{% for m in messages if m.role != 'system' %}[{{ loop.index }}:{{ m.role }}/{{ loop.length }}]{% endfor %}\n"
        "{% for m in messages %}{% if m.role == 'assistant' %}{% break %}{% endif %}{{ m.role }},{% endfor %}\n"
        "{% for m in messages %}{% if loop.index is even %}{% continue %}{% endif %}{{ loop.index }},{% endfor %}\n"
        "{% for x in [] %}never{% else %}empty-else{% endfor %}\n"
        "{% for k, v in {'a': 1, 'b': [2, 3]}.items() %}{{ k }}={{ v }};{% endfor %}\n"
        "{% for a, b in [(1, 'x'), (2, 'y')] %}{{ a }}{{ b }}{% endfor %}\n"
        "{% for c in 'héllo' %}{{ c }}|{% endfor %}\n"
        "{% for k in {'z': 1, 'a': 2} %}{{ k }}{% endfor %}\n"
        "{% for i in range(3) %}{% for j in range(i) %}{{ i }}{{ j }}({{ loop.index }}) {% endfor %}{{ loop.index }};{% endfor %}\n"
        "{% for i in range(10, 0, -3) %}{{ i }} {% endfor %}\n"
        "{% for m in messages|reverse %}{{ m.role[0] }}{% endfor %}",
        ["single_user", "multi_turn", "tool_calls"],
    ),
    "set_and_namespace": (
        "{% set x = 1 %}{% for m in messages %}{% set x = x + 10 %}{{ x }},{% endfor %}after={{ x }}\n"
        "{% set ns = namespace(count=0, last=none, found=false) %}"
        "{% for m in messages %}{% set ns.count = ns.count + 1 %}{% set ns.last = m.role %}"
        "{% if m.role == 'user' %}{% set ns.found = true %}{% endif %}{% endfor %}"
        "{{ ns.count }} {{ ns.last }} {{ ns.found }}\n"
        "{% set a, b = 'p', 'q' %}{{ a }}{{ b }}\n"
        "{% set (c, d) = [3, 4] %}{{ c + d }}\n"
        "{% set block %}  captured {{ messages|length }}  {% endset %}[{{ block }}]\n"
        "{% set trimmed | trim | upper %}  shout  {% endset %}[{{ trimmed }}]\n"
        "{% if true %}{% set inside_if = 'visible' %}{% endif %}{{ inside_if }}\n"
        "{% for m in messages %}{% set loop_local = m.role %}{% endfor %}[{{ loop_local }}]\n"
        "{% with w = 5, z = 6 %}{{ w * z }}{% endwith %}[{{ w }}]\n"
        "{% set ns2 = namespace({'k': 'from-dict'}) %}{{ ns2.k }}\n"
        "{% set d = dict(a=1, b='two') %}{{ d }} {{ d.a }} {{ d['b'] }}",
        ["single_user", "multi_turn"],
    ),
    "macros": (
        "{% macro render(m, prefix='>') %}{{ prefix }}{{ m.role | upper }}: {{ m.content }}{% endmacro %}"
        "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}"
        "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1)|int }}{% endif %}{% endmacro %}"
        "{% macro listy() %}{{ varargs|length }}{{ kwargs }}{% endmacro %}"
        "{% for m in messages %}{{ render(m) }}\n{{ render(m, prefix='#') }}\n{% endfor %}"
        "{% call wrap('b') %}inner {{ messages|length }}{% endcall %}\n"
        "{% macro rowed(items) %}{% for i in items %}{{ caller(i) }}{% endfor %}{% endmacro %}"
        "{% call(item) rowed([1, 2]) %}[{{ item }}]{% endcall %}\n"
        "{{ fact(5) }} {{ listy(1, 2, x=3) }} {{ render is callable }}",
        ["single_user", "multi_turn"],
    ),
    "operators": (
        "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 7 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} "
        "{{ 2 ** 10 }} {{ 2 ** -1 }} {{ 2 ** 3 ** 2 }} {{ 10 - 2 - 3 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 1.5 + 1 }}\n"
        "{{ 'a' ~ 1 ~ none ~ true ~ 2.50 ~ undefined_var }} {{ 'ab' + 'cd' }} {{ 'ab' * 3 }} {{ [1] + [2, 3] }} {{ [0] * 3 }}\n"
        "{{ 1 < 2 }} {{ 2 <= 2 }} {{ 3 > 4 }} {{ 'a' < 'b' }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' != 'a' }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }}\n"
        "{{ 'ell' in 'hello' }} {{ 2 in [1, 2] }} {{ 'role' in messages[0] }} {{ 'x' not in 'abc' }} {{ not 'x' in 'abc' }}\n"
        "{{ true and 'yes' }} {{ false or 'fallback' }} {{ none or 0 or '' }} {{ not none }} {{ 0 and 1 }} {{ [] or [1] }}\n"
        "{{ 'yes' if messages else 'no' }} [{{ 'x' if false }}] {{ 1 if false else 2 if false else 3 }}\n"
        "{{ -3 | abs }} {{ - 2 ** 2 }} {{ not true == false }} {{ (1 + 2) | string + '!' }}\n"
        "{{ [1, 2] == [1, 2] }} {{ (1, 2) == [1, 2] }} {{ {'a': 1} == {'a': 1} }} {{ none == none }} {{ 1_000 + 0x10 if false else 1_000 }}",
        ["single_user"],
    ),
    "literals_and_repr": (
        "{{ none }} {{ None }} {{ true }} {{ True }} {{ false }} {{ 42 }} {{ -0.0 }} {{ 3.14 }} {{ 1e3 }} {{ 1.5e-7 }} {{ 1e16 }} {{ 123456789.125 }}\n"
        "{{ 0.1 + 0.2 }} {{ 1 / 3 }} {{ 2.0 }} {{ 10 / 4 }} {{ 1e100 }}\n"
        "{{ [1, 'two', 3.0, none, true, [], {}] }} {{ ('a',) }} {{ () }} {{ (1, 2) }}\n"
        "{{ {'k': 'v', 'n': 1, 'l': [1], 'd': {'x': none}} }}\n"
        "{{ ['it\\'s', 'say \"hi\"', 'both \\' \"', 'back\\\\slash', 'tab\\tnl\\n', 'é 🎉', '\\x00\\x7f\\u200b'] }}\n"
        "{{ 'adjacent' 'strings' }} {{ \"dq\\u00e9\" }} {{ '\\x41\\101\\q' }}\n"
        "{{ messages }}\n{{ messages[0] }}",
        ["single_user", "unicode", "multimodal"],
    ),
    "filters_strings": (
        "{% for m in messages %}{% set c = m.content if m.content is string else '' %}"
        "[{{ c|trim }}][{{ c|upper }}][{{ c|lower }}][{{ c|capitalize }}][{{ c|title }}][{{ c|length }}]"
        "[{{ c|replace('e', 'E') }}][{{ c|replace('e', 'E', 1) }}][{{ c|reverse }}][{{ c|wordcount }}][{{ c|trim('Hi!') }}]"
        "[{{ c|first }}][{{ c|last }}][{{ c|center(30) }}][{{ c|escape }}][{{ c|e|safe }}][{{ c|string }}]\n{% endfor %}"
        "{{ 'hello world-wide (x) [y]'|title }} {{ 'hELLO wORLD'|capitalize }} {{ \"they're here\".title() }}\n"
        "{{ 'a\\nb\\n\\nc'|indent }}|{{ 'a\\nb\\n\\nc'|indent(2, true) }}|{{ 'a\\nb\\n\\nc'|indent(2, first=true, blank=true) }}|{{ 'x\\ny'|indent('--') }}\n"
        "{{ '%s is %d years, %r'|format('Ann', 30, 'q') }} {{ '%s%%'|format(5) }} {{ '%s-%s' % ('a', 'b') }} {{ 'v=%s' % 3 }}",
        ["single_user", "unicode", "whitespace"],
    ),
    "filters_sequences": (
        "{{ messages|length }} {{ messages|count }} {{ messages|first }} {{ (messages|last).role }}\n"
        "{{ messages|map(attribute='role')|join(', ') }} | {{ messages|join('|', attribute='role') }}\n"
        "{{ messages|selectattr('role', 'equalto', 'user')|list|length }} {{ messages|rejectattr('role', 'eq', 'user')|map(attribute='role')|list }}\n"
        "{{ messages|selectattr('tool_calls', 'defined')|list|length }} {{ messages|selectattr('tool_calls')|list|length }}\n"
        "{{ [1, 2, 3, 4]|select('odd')|list }} {{ [1, 2, 3, 4]|reject('odd')|list }} {{ [0, 1, '', 'a', none]|select|list }}\n"
        "{{ [1, 2, 3]|map('string')|join('-') }} {{ ['a', 'B']|map('upper')|list }} {{ [1.5, 2.5]|map('round')|list }} {{ [{'a': {'b': 7}}]|map(attribute='a.b')|list }}\n"
        "{{ [3, 1, 2]|sort }} {{ ['b', 'A', 'c']|sort }} {{ ['b', 'A', 'c']|sort(case_sensitive=true) }} {{ [3, 1, 2]|sort(reverse=true) }}\n"
        "{{ messages|sort(attribute='role')|map(attribute='role')|list }} {{ [1, 2, 2, 'a', 'A']|unique|list }} {{ [5, 1, 9]|min }} {{ [5, 1, 9]|max }} {{ ['b', 'A']|max }}\n"
        "{{ [1, 2, 3]|sum }} {{ [0.5, 1]|sum }} {{ [{'n': 2}, {'n': 3}]|sum(attribute='n') }} {{ [1, 2]|sum(start=10) }}\n"
        "{{ {'b': 2, 'a': 1, 'C': 0}|dictsort }} {{ {'b': 2, 'a': 1}|dictsort(by='value', reverse=true) }} {{ {'x': 1}|items|list }}\n"
        "{{ [1, 2, 3]|reverse|list }} {{ 'abc'|list }} {{ {'k': 1, 'j': 2}|list }} {{ [[1, 2], [3]]|first|last }} {{ []|first }}|{{ missing|list }}\n"
        "{{ none|default('d1') }} {{ missing|default('d2') }} {{ ''|default('d3', true) }} {{ ''|d('d4') }} {{ 0|default(5, boolean=true) }}\n"
        "{{ '42'|int + 1 }} {{ '3.9'|int }} {{ 'x'|int }} {{ 'x'|int(7) }} {{ 3.99|int }} {{ true|int }} {{ '2.5'|float }} {{ 'no'|float }} {{ 7|float }}\n"
        "{{ 2.5|round }} {{ 3.5|round }} {{ 2.675|round(2) }} {{ 3.14159|round(3, 'floor') }} {{ 3.1|round(0, 'ceil') }} {{ 5|round }} {{ -2.5|abs }}\n"
        "{{ messages[0]|items|list|length }} {{ {'a': 1}|attr('items') is callable }}",
        ["single_user", "multi_turn", "tool_calls"],
    ),
    "tojson": (
        "{{ messages|tojson }}\n{{ messages[-1]|tojson(indent=2) }}\n"
        "{{ {'b': 1, 'a': [1.0, 2.5, true, none, 'é\"\\\\\\n\\t\\u0001<>&']}|tojson(sort_keys=true) }}\n"
        "{{ {'a': 1, 'b': [1, 2]}|tojson(separators=(',', ':')) }} {{ [1, [2, {}], []]|tojson(indent=1) }} {{ 'ünï'|tojson(ensure_ascii=true) }} {{ '🎉'|tojson(true) }}\n"
        "{{ 1e20|tojson }} {{ 0.1|tojson }} {{ -5|tojson }} {{ (1, 'a')|tojson }} {{ {1: 'int key', none: 'n', true: 't'}|tojson }}\n"
        "{% if tools %}{% for t in tools %}{{ t|tojson }}\n{{ t.function.parameters|tojson(indent=4) }}\n{% endfor %}{% endif %}",
        ["single_user", "unicode", "tool_calls"],
        "tools",
    ),
    "tests": (
        "{% set vals = [none, true, false, 0, 1, 2.5, -3, 'str', '', [], [1], {}, {'a': 1}] %}"
        "{% for v in vals %}{{ v }}:"
        "{{ v is defined }}{{ v is none }}{{ v is boolean }}{{ v is true }}{{ v is false }}{{ v is integer }}"
        "{{ v is float }}{{ v is number }}{{ v is string }}{{ v is mapping }}{{ v is iterable }}{{ v is sequence }}"
        "{{ v is callable }}\n{% endfor %}"
        "{{ missing is defined }} {{ missing is undefined }} {{ missing is iterable }} {{ messages[0].nope is defined }} {{ messages[0].role is defined }}\n"
        "{{ 4 is even }} {{ 4 is odd }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }} {{ 3 is eq 3 }} {{ 3 is ne 3 }} {{ 3 is lt 4 }} "
        "{{ 3 is gt 4 }} {{ 3 is ge 3 }} {{ 3 is le 2 }} {{ 2 is in [1, 2] }} {{ 'a' is equalto 'a' }} {{ 5 is greaterthan 4 }} {{ 1 is lessthan 0 }}\n"
        "{{ 'abc' is lower }} {{ 'ABC' is upper }} {{ 'Abc' is lower }} {{ none is sameas none }} {{ true is sameas true }} {{ 'upper' is filter }} {{ 'odd' is test }} {{ 'nope' is filter }}\n"
        "{{ 1 is not none }} {{ missing is not defined }} {{ not messages is string }} {{ range is callable }} {{ messages[0] is mapping }}",
        ["single_user"],
    ),
    "methods": (
        "{% for m in messages %}{% if m.content is string %}{% set c = m.content %}"
        "[{{ c.strip() }}][{{ c.lstrip() }}][{{ c.rstrip() }}][{{ c.strip('H!') }}][{{ c.split() }}][{{ c.split(' ', 1) }}]"
        "[{{ c.rsplit(' ', 1) }}][{{ c.startswith('He') }}][{{ c.endswith(('!', '?')) }}][{{ c.replace('l', 'L') }}][{{ c.upper() }}]"
        "[{{ c.lower() }}][{{ c.title() }}][{{ c.capitalize() }}][{{ c.find('l') }}][{{ c.rfind('l') }}][{{ c.count('l') }}]"
        "[{{ c.splitlines() }}][{{ c.isdigit() }}][{{ c.isspace() }}]\n{% endif %}{% endfor %}"
        "{{ ', '.join(['a', 'b']) }} {{ '{} + {} = {total}'.format(1, 2, total=3) }} {{ '{0}{0}'.format('x') }} {{ '12'.isdigit() }} {{ 'a,b,,c'.split(',') }}\n"
        "{{ messages[0].get('role') }} {{ messages[0].get('nope') }} {{ messages[0].get('nope', 'dflt') }} {{ messages[0].keys()|list }} {{ messages[0].values()|list|length }}\n"
        "{% for k, v in messages[0].items() %}{{ k }}={{ v|string|length }};{% endfor %} {{ [1, 2, 1].count(1) }} {{ [1, 2, 3].index(2) }}\n"
        "{{ messages[0]['role'] }} {{ messages[0].role }} {{ messages[-1].role }} {{ messages.0.role }} {{ messages[0]['items'] is callable }}",
        ["single_user", "unicode", "whitespace", "multi_turn"],
    ),
    "slicing": (
        "{{ messages[1:]|map(attribute='role')|list }} {{ messages[:-1]|length }} {{ messages[::-1]|map(attribute='role')|list }} {{ messages[::2]|length }}\n"
        "{{ 'hello'[1:3] }} {{ 'hello'[::-1] }} {{ 'hello'[-3:] }} {{ 'héllo wörld'[1:8] }} {{ 'abc'[5:] }}|{{ 'abcdef'[::2] }} {{ 'abcdef'[4:1:-1] }}\n"
        "{{ [1, 2, 3, 4, 5][1:4] }} {{ [1, 2, 3][-2:] }} {{ [1, 2, 3][:0] }} {{ (1, 2, 3)[1:] }} {{ [1, 2, 3][-1] }} {{ 'abc'[0] }} {{ 'abc'[-1] }}\n"
        "{% set system = messages[0].content if messages[0].role == 'system' else '' %}{% set rest = messages[1:] if system else messages %}{{ system }}|{{ rest|length }}",
        ["single_user", "multi_turn"],
    ),
    "undefined_semantics": (
        "[{{ missing }}][{{ messages[0].missing }}][{{ messages[0]['missing'] }}][{{ messages[99] }}][{{ none.attr }}][{{ 'str'.nope }}]\n"
        "{% if missing %}truthy{% else %}falsy{% endif %} {% if messages[0].missing %}t{% else %}f{% endif %} {{ missing|length }} {{ missing|default('dflt') }}\n"
        "{% for x in missing %}never{% else %}empty{% endfor %} {{ missing == missing }} {{ missing != 1 }} {{ missing is none }} {{ 'x' ~ missing ~ 'y' }}\n"
        "{{ missing|string }}|{{ missing|trim }}|{{ missing|upper }}|{{ missing|join(',') }}|{{ missing|first }}|{{ bos_token }}|{{ eos_token }}|{{ tools }}|{{ documents }}|{{ add_generation_prompt }}\n"
        "{{ [1, 2].append }}|{% if [1].append %}x{% endif %}|{{ {'a': 1}.update is defined }}",
        ["single_user"],
    ),
    "content_parts": (
        "{% for message in messages %}<|{{ message.role }}|>"
        "{% if message.content is string %}{{ message.content }}"
        "{% else %}{% for part in message.content %}{% if part.type == 'image' %}<image>{% elif part.type == 'text' %}{{ part.text }}{% endif %}{% endfor %}{% endif %}"
        "<|end|>\n{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}",
        ["single_user", "multimodal"],
    ),
    "tool_use": (
        "{%- if tools %}<|tools|>\n{%- for tool in tools %}\n{{ tool.function.name }}: {{ tool.function.description }}\n"
        "{{ tool | tojson(indent=2) }}\n{%- endfor %}\n<|end_tools|>\n{%- endif %}\n"
        "{%- for message in messages %}\n"
        "{%- if message.role == 'assistant' and message.tool_calls is defined %}\n"
        "<|assistant|>{{ message.content }}\n"
        "{%- for call in message.tool_calls %}\n"
        "{%- set fn = call.function if call.function is defined else call %}\n"
        "<call>{\"name\": {{ fn.name | tojson }}, \"arguments\": {{ fn.arguments if fn.arguments is string else fn.arguments | tojson }}}</call>\n"
        "{%- endfor %}\n"
        "{%- elif message.role == 'tool' %}\n"
        "<|tool|>{{ message.name | default('unknown') }}: {{ message.content }}\n"
        "{%- else %}\n"
        "<|{{ message.role }}|>{{ message.content }}\n"
        "{%- endif %}\n"
        "{%- endfor %}\n"
        "{%- if add_generation_prompt %}\n<|assistant|>\n{%- endif %}",
        ["single_user", "multi_turn", "tool_calls", "tool_call_string_args", "assistant_prefill"],
        "tools",
    ),
    "generation_tag": (
        "{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}<a>{{ m.content }}</a>{% endgeneration %}"
        "{% else %}<u>{{ m.content }}</u>{% endif %}{% endfor %}{% if add_generation_prompt %}<a>{% endif %}",
        ["user_assistant", "assistant_prefill"],
    ),
    "globals": (
        "{{ range(5)|list }} {{ range(2, 5)|list }} {{ range(0)|list }} {{ strftime_now('%Y-%m-%d')|length }} {{ strftime_now('%%') }}\n"
        "{% set j = joiner(' | ') %}{% for m in messages %}{{ j() }}{{ m.role }}{% endfor %}\n"
        "{{ extra_var | default('no extra') }} {{ enable_thinking is defined }} {{ custom_list|length if custom_list is defined else 'none' }}\n"
        "{% if documents %}{% for d in documents %}[{{ loop.index }}] {{ d.title }}: {{ d.text }}\n{% endfor %}{% endif %}",
        ["single_user", "multi_turn"],
        "extra",
    ),
    "raise_on_system": (
        "{% if messages[0].role == 'system' %}{{ raise_exception('System messages are not supported: ' ~ messages[0].content) }}{% endif %}"
        "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}",
        ["single_user", "system_user", "unicode"],
    ),
}

# Templates that must fail (syntax or runtime); rendered on single_user.
ERRORS = {
    "err_unknown_filter": "{{ messages|no_such_filter }}",
    "err_unknown_filter_in_dead_branch": "{% if false %}{{ 1|no_such_filter }}{% endif %}ok",
    "err_unknown_test": "{{ 1 is frobnicated }}",
    "err_unknown_tag": "{% include 'x.html' %}",
    "err_do_tag": "{% do messages.append(1) %}",
    "err_unclosed_block": "{% if true %}never closed",
    "err_unclosed_var": "{{ messages ",
    "err_unclosed_comment": "{# comment",
    "err_bad_end": "{% for m in messages %}{% endif %}",
    "err_break_outside_loop": "{% break %}",
    "err_list_append": "{% set l = [] %}{{ l.append(1) }}",
    "err_dict_update": "{% set d = {} %}{{ d.update({'a': 1}) }}",
    "err_messages_append": "{{ messages.append({'role': 'user'}) }}",
    "err_undefined_attr_of_undefined": "{{ missing.attr }}",
    "err_undefined_call": "{{ missing() }}",
    "err_add_str_int": "{{ 'a' + 1 }}",
    "err_add_undefined": "{{ 'a' + missing }}",
    "err_div_zero": "{{ 1 / 0 }}",
    "err_mod_zero": "{{ 1 % 0 }}",
    "err_compare_types": "{{ 1 < 'a' }}",
    "err_not_callable": "{{ messages[0].role() }}",
    "err_set_attr_non_namespace": "{% set d = {} %}{% set d.x = 1 %}",
    "err_unpack": "{% for a, b in [[1, 2, 3]] %}{% endfor %}",
    "err_range_too_big": "{{ range(1000000)|length }}",
    "err_iter_int": "{% for x in 5 %}{% endfor %}",
    "err_raise_plain": "{{ raise_exception('plain message with \"quotes\" and ünïcode') }}",
    "err_raise_in_loop": "{% for m in messages %}{% if m.role == 'user' %}{{ raise_exception('user at ' ~ loop.index) }}{% endif %}{% endfor %}",
    "err_tojson_undefined": "{{ missing|tojson }}",
    "err_string_slice_step_zero": "{{ 'abc'[::0] }}",
    "err_filter_binds_tighter": "{{ 1 + 2 | string }}",
    "err_unknown_filter_in_taken_branch": "{% if true %}{{ 1|no_such_filter }}{% endif %}",
}

TOOLS = [WEATHER_TOOL, TIME_TOOL]
DOCUMENTS = [
    {"title": "Paris", "text": "Paris is the capital of France."},
    {"title": "Tokyo", "text": "Tokyo — 東京 — is large."},
]
EXTRA_CONTEXT = {"extra_var": "EXTRA", "enable_thinking": False, "custom_list": [1, 2, 3]}


def case_plan(sets, flags):
    """(set, add_generation_prompt, continue_final_message, tools, documents, extra) tuples."""
    plan = []
    for name in sets:
        for agp in (False, True):
            plan.append((name, agp, False, False, False, False))
        last = MESSAGE_SETS[name][-1]
        if last["role"] == "assistant":
            plan.append((name, False, True, False, False, False))
    if "tools" in flags:
        for name in ["single_user"] + [s for s in TOOL_SETS if s in sets or "all_tool_sets" in flags]:
            plan.append((name, True, False, True, False, False))
    if "extra" in flags:
        for name in sets:
            plan.append((name, True, False, False, True, True))
    return plan


def render_case(render, case):
    name, agp, cfm, tools, docs, extra = case
    out = {"messages": name, "add_generation_prompt": agp, "continue_final_message": cfm,
           "tools": tools, "documents": docs, "extra_context": extra}
    try:
        kwargs = dict(EXTRA_CONTEXT) if extra else {}
        out["expected"] = render(json.loads(json.dumps(MESSAGE_SETS[name])), tools=TOOLS if tools else None,
                                 documents=DOCUMENTS if docs else None, add_generation_prompt=agp,
                                 continue_final_message=cfm, **kwargs)
    except Exception as e:  # noqa: BLE001 - the golden records whatever transformers raises
        out["error_type"] = type(e).__name__
        out["error"] = str(e)
    return out


def jinja_renderer(template, special_tokens):
    def render(messages, tools, documents, add_generation_prompt, continue_final_message, **kwargs):
        if continue_final_message and add_generation_prompt:  # apply_chat_template's own check
            raise ValueError("continue_final_message and add_generation_prompt are not compatible.")
        rendered, _ = render_jinja_template(
            conversations=[messages], tools=tools, documents=documents, chat_template=template,
            add_generation_prompt=add_generation_prompt, continue_final_message=continue_final_message,
            **{**special_tokens, **kwargs})
        return rendered[0]
    return render


def tokenizer_renderer(tok):
    def render(messages, tools, documents, add_generation_prompt, continue_final_message, **kwargs):
        if continue_final_message and add_generation_prompt:
            raise AssertionError("not generated")
        return tok.apply_chat_template(messages, tools=tools, documents=documents, tokenize=False,
                                       add_generation_prompt=add_generation_prompt,
                                       continue_final_message=continue_final_message, **kwargs)
    return render


def entry(name, source, template, special_tokens, render, sets, flags=()):
    cases = [render_case(render, c) for c in case_plan(sets, flags)]
    return {"name": name, "source": source, "template": template, "special_tokens": special_tokens,
            "cases": cases}


def smollm2_template():
    from gguf import GGUFReader
    field = GGUFReader(GGUF).fields["tokenizer.chat_template"]
    return bytes(field.parts[field.data[0]]).decode("utf-8")


def write(group, templates):
    used = sorted({c["messages"] for t in templates for c in t["cases"]})
    doc = {"generated_by": "tools/reference/chat_template_goldens.py (transformers 4.57.3, Jinja2 3.1.6)",
           "message_sets": {k: MESSAGE_SETS[k] for k in used}, "tools": TOOLS, "documents": DOCUMENTS,
           "extra_context": EXTRA_CONTEXT, "templates": templates}
    path = os.path.join(OUT, group + ".json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    n = sum(len(t["cases"]) for t in templates)
    errs = sum(1 for t in templates for c in t["cases"] if "error" in c)
    print(f"{path}: {len(templates)} templates, {n} cases ({errs} errors)")


def main():
    os.makedirs(OUT, exist_ok=True)
    basic = BASIC_SETS + ["assistant_prefill", "assistant_prefill_space", "multimodal"]

    templates = []
    for cfg in sorted(glob.glob(os.path.join(SHARED, "data", "tokenizers", "*", "tokenizer_config.json"))):
        with open(cfg, encoding="utf-8") as f:
            template = json.load(f).get("chat_template")
        if not template:
            continue
        model = os.path.basename(os.path.dirname(cfg))
        tok = AutoTokenizer.from_pretrained(os.path.dirname(cfg))
        flags = ("tools", "all_tool_sets") if "tools" in template else ()
        templates.append(entry(model, f"shared/data/tokenizers/{model}/tokenizer_config.json", template,
                               dict(tok.special_tokens_map), tokenizer_renderer(tok), basic, flags))
    write("tokenizers", templates)

    special = {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "unk_token": "<|endoftext|>",
               "pad_token": "<|im_end|>"}
    template = smollm2_template()
    write("smollm2", [entry("smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf tokenizer.chat_template", template,
                            special, jinja_renderer(template, special), basic)])

    write("public", [entry(name, "public tokenizer_config.json (see script)", template, special,
                           jinja_renderer(template, special), basic)
                     for name, (template, special) in PUBLIC.items()])

    special = {"bos_token": "<s>", "eos_token": "</s>"}
    features = []
    for name, spec in FEATURES.items():
        template, sets, *flags = spec
        features.append(entry(name, "hand-written feature template", template, special,
                              jinja_renderer(template, special), sets, tuple(flags)))
    write("features", features)

    errors = [entry(name, "hand-written error template", template, special,
                    jinja_renderer(template, special), ["single_user"])
              for name, template in ERRORS.items()]
    for t in errors:
        t["cases"] = t["cases"][:1]
    # transformers' own argument checks
    both = render_case(jinja_renderer(FEATURES["generation_tag"][0], special),
                       ("assistant_prefill", True, True, False, False, False))
    errors.append({"name": "err_continue_and_generation_prompt", "source": "argument check",
                   "template": FEATURES["generation_tag"][0], "special_tokens": special, "cases": [both]})
    write("errors", errors)


if __name__ == "__main__":
    sys.exit(main())
