"""The error messages users can meet on the CLI, marked for the catalogue as the code words
them (each value a ``{placeholder}``): :func:`alignment_engine.i18n.translate` matches an
English error against them when the CLI prints it in another language (see
:mod:`.error_messages`). A value in ``{error}``, ``{reason}`` or ``{..._words}`` is the code's
own words (another message, a clause, "a number"), translated in turn: those words are here too.
``tests/cli/test_error_catalogue_coverage.py`` walks the source and fails on an error message
missing here; messages only the HTTP service gives are not catalogued (it answers in English)."""

from __future__ import annotations

__all__ = ["MESSAGES"]


def _(message: str) -> str:
    """Marks a message for the catalogue (Babel extracts ``_``); translated when printed."""
    return message


# The messages as the code words them (values as {placeholders}), by the part of the code that
# makes them; the catalogue translates each, and a test holds every one to a message the code
# really makes.

MESSAGES = (
    # the frame of a problem (Problem.render)
    _("row {row}"),
    _("column '{key}'"),
    _(" ({suggestion})"),
    # files
    _("no such file"),
    _("is a folder, expected a file"),
    _("is not a regular file (a device, pipe or socket)"),
    _("save the data to a file and give its path"),
    _("save the file as UTF-8"),
    _("file is empty"),
    _("start with 'kind:' and 'id:'"),
    _("file has no YAML content"),
    _("not valid YAML: {problem}"),
    _("file holds several YAML documents ('---'); put one document in each file"),
    _("a key must be a plain value, not a list or mapping"),
    _("merge keys ('<<') are not supported"),
    _("repeat the keys you need"),
    _("duplicate key '{key}' (first at line {line})"),
    _("remove one of them"),
    _("write the values out instead of nesting aliases"),
    _("missing 'kind:'"),
    _("add one of: kind: {kinds}"),
    _("unknown kind {kind}"),
    _("expected a {expected} file, found kind '{kind}'"),
    # keys and values
    _("unknown key '{key}'"),
    _("did you mean '{choice}'?"),
    _("expected one of: {choices}"),
    _("missing required key '{key}'"),
    _("{given} is not allowed here; expected {expected}"),
    _("{value} is not an id"),
    _("ids have no spaces, brackets or control characters"),
    _("... and {count} more problems"),
    _("expected a number or a percentage like '40%', got {value}"),
    _("expected a finite number, got {value}"),
    _("Input should be a valid number, unable to parse string as a number"),
    _("Input should be a valid integer, unable to parse string as an integer"),
    _("Input should be a valid integer, got a number with a fractional part"),
    _("Input should be a valid boolean, unable to interpret input"),
    _("Input should be a valid string"),
    _("Input should be a valid list"),
    _("Input should be a valid dictionary"),
    _("Input should be greater than or equal to {limit}"),
    _("Input should be greater than {limit}"),
    _("Input should be less than or equal to {limit}"),
    _("Input should be less than {limit}"),
    _("String should have at least {count} character"),
    _("String should have at least {count} characters"),
    # tables
    _("this file is separated by ';', not ',' (header {header})"),
    _("cannot read as a CSV table: {problem}"),
    _("row {line} has {saw} fields where the header names {expected} columns"),
    _("unsupported table format '{suffix}'"),
    _("use .csv, .parquet or .xlsx"),
    _("unknown column '{column}' in {table}"),
    _("missing column '{column}' ({table} need {columns})"),
    _("{table} file has no rows"),
    _("{table} have no rows"),
    # the CLI's own options and commands
    _("is not an empty folder: init never overwrites anything"),
    _("name a new folder, e.g. alignment-engine init my-company"),
    _("--target {given} is not KPI=VALUE"),
    _("e.g. --target sales.revenue_north=80"),
    _("--chart draws the frontier: give --frontier RESOURCE"),
    _("--frontier answers another question than {option}: give one"),
    _("--target answers another question than {option}: give one"),
    _("cannot write the chart: {problem}"),
    _("--increment {item} is not RESOURCE=AMOUNT"),
    _("e.g. --increment budget=5000000"),
    _("--increment names '{resource}' twice"),
    _("{option} goes with --policy"),
    _("--max-payout-loss {value} is not a share"),
    _("e.g. 5% or 0.05"),
    _("--max-payout-loss {value} must be a share from 0 to below 1 (5% or 0.05)"),
    _("give --history or --actuals, not both"),
    _("they are read the same way: past results, one outcome per period"),
    _("nothing to draw outcomes from"),
    _("give --history F (past periods) or --distributions F"),
    _("a release is a plan or a policy; {path} is a {kind}"),
    _("no employee '{employee}' in this run"),
    _("cannot listen on {host}:{port}: {problem}"),
    _("a worker process could not start; the log above says why"),
    _(
        "run {run} cannot be restated as statements by this engine: its payouts differ from the stored ones"
    ),
    _("`alignment-engine runs replay {run}` shows what changed"),
    _("{count} statements in one go; at most {most}"),
    _("choose them with --department or --employee (payroll.csv has everyone)"),
    _("run {run} is a {kind} run without payouts; statements come from a score run with employees"),
    _("no employee '{employee}' in run {run}"),
    _("run {run} pays no employee of department '{department}'"),
    _("cannot export an input with the role {role} as a file name"),
    _("--out must be a folder, this is a file"),
    _("cannot write {name}: the output folder holds a folder of that name"),
    _("move or rename it, or choose another --out folder"),
    _("no messages in {language}"),
    _("languages: {languages}"),
    # engine and runs (score, replay, jobs)
    _("no --target given"),
    _("--target allocates one resource: give at most one --resource"),
    _("no --frontier given"),
    _("{rule}: {finding_words}; payouts on it would be wrong"),
    _("the KPI weights of {scope} add up to {total}, not to 1 (or 100%)"),
    _("{kpi} has no target"),
    _("the threshold, target and maximum of {kpi} do not run in its direction ({direction})"),
    _(
        "fix the plan (`alignment-engine check PLAN` lists these findings), or pass --accept-findings (HTTP: options.accept_findings) to pay anyway; the run records it"
    ),
    _("jobs run score runs, not {kind} runs"),
    _("a score job needs a period"),
    _("the job's plan or policy is not valid: {problem}"),
    _("run {run} has no period to score"),
    _("what a reallocation does to pay is scored for a period: give --period"),
    _("run {run} is a {kind} run; replay covers {kinds} runs"),
    _("run the scenario again with `alignment-engine scenario run`"),
    _("run {run} is a {kind} run; only score runs have payouts to explain"),
    _("run {run} scored no employees, so it has no payouts to explain"),
    _(
        "run {run} cannot be explained by this engine: it derives {derived} for '{employee}' where the run stored {stored} {currency}"
    ),
    _(
        "`alignment-engine runs replay {run}` shows what changed (the run was made by engine {version})"
    ),
    # errors listing many problems
    _("... and {count} more problems not listed"),
    _("... and {count} more problem not listed"),
    _("fix the ones above first"),
    _("invalid input"),
    _("missing required key"),
    # files and tables
    _("file is larger than {size} MiB"),
    _("expected a mapping with 'kind:' at the top, found {type}"),
    _("not UTF-8 text (byte 0x{byte} at offset {offset})"),
    _("nested deeper than {depth} levels"),
    _("a lone '-' starts a list; quote it, e.g. sign: \"-\""),
    _("kind '{kind}' is not supported by this installation"),
    _("file '{file}' does not exist (looked in {folder})"),
    _('save it as "CSV UTF-8 (comma delimited)" with decimal points, e.g. 10.5'),
    _("the history has no KPI results (period,scope,kpi,actual); fitting needs both"),
    _("the history has no allocations (period,department,resource,amount); fitting needs both"),
    _("give a file of each with --history twice, or one file holding both kinds of rows"),
    _(
        'a value with a comma in it (a decimal comma like 10,5, or a name) must be quoted ("10,5") or written with a point (10.5)'
    ),
    _("expected: {columns}, or your own as {prefix}NAME"),
    _("expected: {columns}"),
    _("{table} need the columns {groups}"),
    _("looks like a decimal comma: write {value}"),
    _("not UTF-8 text (byte 0x{byte})"),
    _("save the file as UTF-8 CSV"),
    _("cannot read as a {format} table: {problem}"),
    _("not a number {value}"),
    _("is empty: {value}"),
    _("contains a NUL character (\\x00): {value}"),
    _("not a date (YYYY-MM-DD) {value}"),
    _("not a period (2026, 2026-Q3 or 2026-07) {value}"),
    _("a row is either a KPI result (kpi) or an allocation (resource), not both"),
    _("a row needs a kpi (a KPI result) or a resource (an allocation)"),
    _("column 'scope': is empty"),
    _("column 'actual': is empty"),
    _("column 'department': is empty"),
    _("column 'amount': is empty"),
    _("missing column '{column}' (columns found: {columns})"),
    _("missing column '{column}' (columns found: none)"),
    # plans (model/plan.py, model/consistency.py, model/common.py)
    _("applies_to must be all, company, department:<id> or kpi:<id>; got {value}"),
    _("duplicate id '{id}' (first defined at {first})"),
    _("plan '{plan}' has no KPI '{kpi}'"),
    _("plan '{plan}' has no department '{department}'"),
    _("plan '{plan}' has no {what} '{ref}'"),
    _("formula {formula} is not an arithmetic expression: {problem}"),
    _("formula {formula} may only use names, numbers, + - * / and parentheses"),
    _("formula {formula} has a constant that is not a number"),
    _("give either 'params' or 'fit: history'"),
    _("give 'params' or 'fit: history', not both"),
    _("amount for '{department}' must not be negative, got {amount}"),
    _("shape '{shape}' needs params {needed}; missing {missing}"),
    _("shape '{shape}' takes params {params}; unknown {extra}"),
    _("power curves need 0 < b < 1 (diminishing returns)"),
    _("'{shape}' curves need b > 0"),
    _("the weight of '{perspective}' must not be negative, got {weight}"),
    _("a metric cannot influence itself"),
    _("a department is listed twice"),
    _("a department cannot be its own parent"),
    _("departments' parents form a cycle: {cycle}"),
    _("one department of the cycle must have no parent (or one outside it)"),
    _("a KPI cannot roll up to itself"),
    _("a curve on a shared goal must name the department whose amount moves it"),
    _("a curve on a company KPI must name the department whose amount moves it"),
    _("unknown {what} '{ref}'"),
    _("unknown objective '{ref}'"),
    _("unknown metric '{ref}'"),
    _("unknown KPI '{ref}'"),
    # policies (model/policy.py, model/consistency.py, scoring)
    _("component weights must sum to 1 (or 100), they sum to {total}"),
    _("payout factors must not fall from threshold to target to maximum"),
    _("a 'levels' curve takes points {threshold: f, target: f, maximum: f}"),
    _("give employee_amount or components"),
    _("give a comparison: lt, lte, gt, gte or eq"),
    _("a gate looks at exactly one of: kpi, department, scope: company"),
    _("a gate compares exactly one of: attainment, actual, score"),
    _("departments and the company are compared on 'score'"),
    _("a KPI is compared on 'attainment' or 'actual'"),
    _("a gate has exactly one effect: cap, zero: true or multiply"),
    _("an 'attainment' curve takes points [[attainment, factor], ...]"),
    _("an 'attainment' curve needs at least one point"),
    _("attainment points must be strictly increasing in attainment"),
    _("payout factors must not fall as attainment rises"),
    _("attainment and payout factors must not be negative"),
    _("a policy needs a 'default' curve"),
    _("the minimum payout {minimum} is above the cap caps.employee_amount {cap}"),
    _("lower the minimum or raise the cap"),
    _("unknown curve '{curve}'"),
    _(
        "a pool of {amount} cannot be paid exactly to {decimals} decimals (amounts must stay below {largest})"
    ),
    _("state the pool in a larger unit (thousands), or round to fewer decimals"),
    _("duplicate gate id '{gate}'"),
    _("duplicate id '{id}' (gates and tables share their ids)"),
    _("KPI '{kpi}' is paid on matrix '{matrix}' and on curve '{curve}' (kpi_curves)"),
    _("pay it on one of them"),
    _("KPI '{kpi}' is already paid on {paid_on}"),
    _("a KPI is paid on one matrix, once"),
    _(
        "matrix '{matrix}' pays maintain KPI '{kpi}' on the ratio of its result to its band, which needs its threshold and maximum above zero"
    ),
    _("give KPI '{kpi}' a band above zero"),
    _("matrix '{matrix}' pays on attainment, but KPI '{kpi}' has no target"),
    _("matrix '{matrix}' pays on attainment, but KPI '{kpi}' has target {target}"),
    _("give KPI '{kpi}' a positive target"),
    _("KPI '{kpi}' has no target to measure attainment against"),
    _("add 'target:' to KPI '{kpi}' in the plan"),
    _("curve '{curve}' pays on the KPI's {level}, but KPI '{kpi}' has no {level}"),
    _("add '{level}:' to KPI '{kpi}' in the plan, or map it to an attainment curve in kpi_curves"),
    _(
        "policy '{policy}' pays in {currency} but plan '{plan}' is in {plan_currency}; amounts are not converted"
    ),
    _("a gate applies to unknown KPI '{kpi}'"),
    _("expect nothing? give kpi_factors, department_factors, gates_fired, payouts or total"),
    _("give employees or employees_file, not both"),
    _(
        "curve '{curve}' pays maintain KPI '{kpi}' on the ratio of its result to its band, which needs its target, threshold and maximum above zero, but they are {levels}"
    ),
    _(
        "curve '{curve}' needs maintain KPI '{kpi}' to hold a band, threshold <= target <= maximum (or, all above zero, the reverse), but they are {levels}"
    ),
    _(
        "curve '{curve}' needs KPI '{kpi}' levels in order {order} ({way_words} is better), but they are {levels}"
    ),
    _("lower"),
    _("higher"),
    _(
        "curve '{curve}' pays on attainment, but KPI '{kpi}' has target {target}, so attainment (actual/target) is {reason}; give a positive target or score it on a levels curve"
    ),
    _("undefined"),
    _("meaningless"),
    # decision tables (model/decision_tables.py)
    _(
        "{condition} is not a condition; write '-', '< 0.9', '>= 1.1', '= 0' or a range like '[0.9..1.1)'"
    ),
    _("{condition} is not a condition"),
    _("the range {range} is empty"),
    _("axis points must be strictly increasing attainments: {points}"),
    _("axis names must differ: {names}"),
    _("payout factors must not be negative"),
    _("payout factors must not fall as '{axis}' attainment rises (they do after factors{where})"),
    _("kpis[{index}] names one KPI per axis ({axes}): {reason}"),
    _("no KPI for {axes}"),
    _("unknown axes {axes}"),
    _("factors{where} must be a number, got {value}"),
    _("factors must be a number, got {value}"),
    _("factors{where} must be a finite number"),
    _("factors must be a finite number"),
    _("factors{where} must be a list of {count} (one per point of axis {axis}), got {size}"),
    _("factors must be a list of {count} (one per point of axis {axis}), got {size}"),
    _("a table input reads exactly one of: kpi, department, scope: company"),
    _("a KPI is read on 'attainment' or 'actual'"),
    _("departments and the company are read on 'score'"),
    _("input names must differ: {names}"),
    _("give repeated subjects a 'name'"),
    _("only a 'collect' table aggregates its rows"),
    _(
        "a 'collect' table that multiplies would add its multipliers together (two rows of 1.05 would multiply by 2.1)"
    ),
    _(
        "use aggregate: product (the default for multiply), max or min; or effect: add for points added to the factor"
    ),
    _("only a table that multiplies takes their product"),
    _("a '{effect}' table's outputs must not be negative"),
    _("row {row} has {count} conditions for {inputs} inputs ({labels})"),
    _("unknown input '{input}'"),
    _("the table has too many combinations to check ({cells} cells x {rows} rows)"),
    _("split it into smaller tables"),
    _("rows {first} and {second} of a 'unique' table overlap: both match {region_words}"),
    _("narrow one of them, or use 'hit: first' so that the first row wins"),
    _("no row of a '{hit}' table matches {region_words}"),
    _("no row of a '{hit}' table matches {region_words} (between rows {before} and {after})"),
    _("no row of a '{hit}' table matches {region_words} (next to row {row})"),
    _("no row of a '{hit}' table matches {region_words} (next to rows {rows})"),
    _("every result"),
    _("{error}; {row_words} is at line {line}"),
    _("add a row for it, or give the table a 'default'"),
    # scenarios
    _(
        "path {path} is not of the form key[id].key[id].field (e.g. departments[sales].kpis[sales.market_share].target)"
    ),
    _("the same path is set twice: {paths}"),
    _("path {path} is not of the form key[id].key[id].field"),
    _("e.g. departments[sales].kpis[sales.market_share].target"),
    _("path {path}: expected '.' after '{segment}' at character {position}"),
    _("not a file"),
    _("expected a plan or a scenario, found kind '{kind}'"),
    _("the actuals have no periods to score"),
    _("add 'period: 2026-Q3'"),
    _("segment '{segment}': no item '{selector}' in {where}; ids that exist: {ids}"),
    _("segment '{segment}': no item '{selector}' in {where}; there are none"),
    _("segment '{segment}': {count} items of {where} match '{selector}'"),
    _("address one as {options}"),
    _("segment '{segment}': {where} has no key '{key}'; keys: {keys}"),
    _("segment '{segment}': no key '{key}' in {where}; ids that exist: {ids}"),
    _("segment '{segment}': no key '{key}' in {where}; there are none"),
    _("segment '{segment}': {where} is a value ({value_words}), it has no '{key}'"),
    _("segment '{segment}': {where} is not set, so it has no '{next}'"),
    _("set the whole of '{where}' instead"),
    _("segment '{segment}': {where} is {value_words}, not a list of items with ids nor a mapping"),
    _("write '{key}' without '[{selector}]' and give its whole value"),
    _("not set"),
    _("a mapping"),
    _("after the scenario's changes, the plan is invalid: {error}"),
    _("after the scenario's changes, the policy is invalid: {error}"),
    _("after the scenario's changes, the {what} is invalid: {error}"),
    _("'{file}' is not a regular file ({path})"),
    _("name a plan or scenario YAML file"),
    _("the extends chain goes round in a circle: {chain}"),
    _("make one scenario extend the plan instead"),
    _("the extends chain is longer than {most} files"),
    _(
        "'{file}' is not a YAML document with a 'kind:'; a scenario extends a plan or another scenario"
    ),
    _("'{file}' is a {kind} file; a scenario extends a plan or another scenario"),
    _("the scenario changes the policy but names none"),
    _("add 'policy: <file>' to the scenario"),
    # scoring (actuals, employees, pay)
    _("... and {count} more duplicate rows"),
    _("... and {count} more rows with the same kind of problem"),
    _(
        "scope '{scope}', period {period}: formula '{formula}' of KPI '{kpi}' divides by zero ({values})"
    ),
    _("no rate for {currencies} in {period}: employees paid in it need one"),
    _("add a row '{period},{currency},RATE' to the fx table (RATE: {currency} per 1 {home})"),
    _("cannot convert the payouts: {error}"),
    _("{reason}: the actuals hold {periods}"),
    _("no actuals for {period}"),
    _("no actuals for {period} (outside the plan's fiscal_year {year})"),
    _("{found} of {total} KPI results found for {period}"),
    _("only {found} of {total} KPI results found for {period}"),
    _("{found} of {total} KPI results found for {period} (outside the plan's fiscal_year {year})"),
    _(
        "only {found} of {total} KPI results found for {period} (outside the plan's fiscal_year {year})"
    ),
    _("did you mean --period {period}?"),
    _("{count} KPI result(s) missing for {period}: check --period and the actuals"),
    _(
        "{count} KPI result(s) missing for {period} (outside the plan's fiscal_year {year}): check --period and the actuals"
    ),
    _(
        "{count} KPI result(s) missing for {period}; add them, or set the policy's 'missing' to 'zero' or 'exclude'"
    ),
    _(
        "{count} KPI result(s) missing for {period} (outside the plan's fiscal_year {year}); add them, or set the policy's 'missing' to 'zero' or 'exclude'"
    ),
    _("missing actual: {actual}"),
    _("... and {count} more missing actuals"),
    _("{text} is not a period (use 2026, 2026-Q3 or 2026-07)"),
    _("manual adjustments take {count} payout(s) below zero: {named}"),
    _("a recovery larger than the payout is a clawback: carry it to a later period"),
    _("adjustments are paid to employees: give the employees table too"),
    _("cannot round the payouts: {error}"),
    _(
        "manual adjustments of {adjusted} exceed the pool of {pool}, which holds them (pool.adjustments: inside)"
    ),
    _("unknown department '{department}'"),
    _("one of: {departments}"),
    _("policy simulate pays one row per employee; these employees have several rows (transfers)"),
    _("give each employee the row of the department they end the period in"),
    _("every draw needs a result for every KPI"),
    _("{source} reports no {kind} to take as an outcome"),
    _("give results by {kind}, or a --period of the kind they have"),
    _("draws must be between 1 and {most}, not {draws}"),
    _("{draws} draws of {count} KPIs are {results} results, more than {most} held at once"),
    _("draw at most {most}"),
    _("give past results (--history or --actuals) or --distributions"),
    _("give the period to plan for (--period): it prorates the employees"),
    _("no result for {period} and no target for {kpis}"),
    _("no result for {period} and no target for {kpis} and {count} more"),
    _("give them a distribution, a result in the actuals, or a target"),
    # optimisation
    _(
        "resource '{resource}', department '{department}': minimum {minimum} is above the most max_change {change} allows (today's {today} + {change} = {most})"
    ),
    _("resource '{resource}': {reason}, but {limit_words}"),
    _("minimums sum to {total}"),
    _(
        "with max_change {change} (and the minimums) departments must keep at least {total} in total"
    ),
    _("in whole steps of {step} departments must keep at least {total} in total"),
    _("the total is at most {total}"),
    _("--increment adds {amount} to today's {today}"),
    _("--keep-total holds the total at today's {today}"),
    _("capacity is {capacity}"),
    _(
        "resource '{resource}': with {reason}, departments can hold at most {most} in total, but {limit_words}"
    ),
    _("their demands (demand_is_limit)"),
    _(
        "resource '{resource}' is counted in {unit_words}, but department '{department}' may only move between {lower} and {upper} (today's {today}, max_change {change})"
    ),
    _(
        "resource '{resource}' is counted in {unit_words}, but the total to hold {total} is not (--keep-total or --increment)"
    ),
    _("whole units"),
    _("multiples of {step}"),
    _(
        "resource '{resource}', department '{department}': minimum {minimum} is above its demand {demand}, which the plan makes a limit (demand_is_limit)"
    ),
    _(
        "resource '{resource}', department '{department}': today's {today} is above its demand {demand} (demand_is_limit), but --increment takes nothing away"
    ),
    _(
        "resource '{resource}': today's total {total} is above capacity {capacity}, so --keep-total cannot hold it"
    ),
    _("history needs one KPI value per resource amount, got {amounts} amounts and {values} values"),
    _("history holds missing or infinite values"),
    _("history holds negative resource amounts"),
    _("need at least 3 periods of history to fit a response curve, got {count}"),
    _(
        "the resource amount never changed in the history (always {amount}), so its effect on the KPI cannot be estimated"
    ),
    _(
        "the KPI never moved in the history (always {value}), so no response to the resource can be estimated"
    ),
    _("no curve shape to fit"),
    _("no response curve fits the history ({reasons})"),
    _("plan '{plan}' has no resources to reallocate"),
    _(
        "response curve of KPI '{kpi}' on '{resource}': '{department}' is not a department, so no amount moves it; name the department"
    ),
    _(
        "response curve of KPI '{kpi}' on '{resource}' for '{department}' says 'fit: history', but no history fit was supplied for it"
    ),
    _("--frontier names '{resource}', which is not a resource"),
    _("--frontier-points {points}: give 2 to 100 points"),
    _(
        "--target names '{kpi}', which is not a KPI the optimiser predicts (a department KPI, a shared goal, or a company KPI with a response curve)"
    ),
    _("no response curve moves '{kpi}', so no amount reaches a target"),
    _("unknown resource '{resource}'"),
    _("unknown resource '{resource}' (did you mean '{choice}'?)"),
    _("no response curve links '{resource}' to '{kpi}'"),
    _("'{kpi}' moves with {resources}: say which with --resource"),
    _(
        "the {shape} curve of '{kpi}' on '{resource}' for '{department}' does not raise it with diminishing returns, so the least amount that reaches a value is not defined"
    ),
    _(
        "the {shape} curve of '{kpi}' on '{resource}' for '{department}' does not lower it with diminishing returns, so the least amount that reaches a value is not defined"
    ),
    _(
        "'{kpi}' reaches at most {most} with '{resource}' within the departments' bounds (max_change, demand limits); the target is {target}"
    ),
    _("shared weight must be between 0 and 1, got {weight}"),
    _("balance must be >= 0, got {balance}"),
    _("nothing to optimise: no department KPI or shared goal has a positive weight"),
    _("KPI '{kpi}': unknown department '{department}'"),
    _("--increment adds to a pool's total and --keep-total holds it: give one of them"),
    _(
        "water-filling needs a separable concave objective (balance 0, higher-is-better KPIs, concave curves); use the interior-point method"
    ),
    _(
        "KPI '{kpi}' (lower is better) could fall to {least} within the allowed moves, where its attainment target/value is undefined; check its baseline and response curves"
    ),
    _("--increment names '{resource}', which is not a resource of the plan"),
    _(
        "--increment names '{resource}', which is not a resource of the plan (did you mean '{choice}'?)"
    ),
    _("--increment {resource}={amount}: the new amount must be a number >= 0"),
    _("--increment names '{resource}', which --resource leaves out (add --resource {resource})"),
    _(
        "the optimum is refused ({refusal}) and today's allocation breaks a constraint ({reason}), so there is no acceptable point between them"
    ),
    _("{shape} curve has non-finite parameters a={a}, b={b}"),
    _("{shape} curve needs b > 0, got b={b}"),
    _("response curve of KPI '{kpi}' on '{resource}' for '{department}': {error}"),
    # rule packs and rule tests
    _("the shipped rule packs (rules/alignment.yaml, rules/conflicts.yaml) are missing"),
    _("reinstall alignment-engine"),
    _("the rule pack did not compile"),
    _("no such folder"),
    _("expected rule packs (kind: rules) in {root}, found kind {kind}"),
    _("keep only rule packs and rule tests in a rules folder"),
    _("rules {rules} depend on their own results through 'none:' conditions"),
    _("a rule may not say 'none: T' about facts it (indirectly) derives"),
    _("pack '{pack}' derives '{fact}' facts with other fields than {fields}"),
    _("give the fact type another name"),
    _("rule id '{rule}' is already defined in {pack}"),
    _("give the rule another id"),
    _("the rule packs hold no rules"),
    _("rule '{rule}' reports no finding"),
    _(
        "rule '{rule}' (pack '{pack}') derived more than {most} facts; it probably keeps deriving from its own results"
    ),
    _("bound the chain (e.g. a hop count) or narrow its key"),
    _("{what} {value} must be a name: letters, digits and '_', not starting with a digit"),
    _("a condition has either 'fact: TYPE' or 'none: TYPE'"),
    _("a rule has either 'finding:' (it reports) or 'derive:' (it adds a fact)"),
    _("a rule with a finding needs 'kind:' and 'severity:'"),
    _("a 'derive:' rule reports nothing, so it takes no kind or severity"),
    _("a rule needs at least one 'fact:' condition, not only 'none:' ones"),
    _("'en' is the message itself; translations are for {languages}"),
    _("no translations in {language}: languages are {languages}"),
    _("'{name}' is reserved; choose another field name"),
    _("a single '}' must be written '}}'"),
    _("a '{' is not closed"),
    _("write '{{' for a literal brace"),
    _("in placeholder {{{source}}}: {error}"),
    _("'{spec}' is not a format spec"),
    _("e.g. {x:,.0f} or {x:.1%}"),
    _("a case gives exactly one of: plan, plan_file, facts"),
    _("a policy goes with a plan, not with raw facts"),
    _("give policy or policy_file, not both"),
    _("case '{case}' expects nothing and names no rule"),
    _("say which rules it tests with 'rules: [...]'"),
    _("no rule tests (kind: {kind}) under {root}"),
    _("add test files such as rules/tests/my-rule.yaml"),
    _("case '{case}' tests rule '{rule}', which no loaded pack defines"),
    _("unknown fact type {type}"),
    _("fact '{fact}' has no field '{field}'"),
    _("field '{field}' must be a number, got {value}"),
    _("field '{field}' must be {type_words}, got {value}"),
    _("no policy tests (kind: {kind}) in {paths}"),
    _("add a file such as policies/tests/my-policy.yaml"),
    _("no such file: {path}"),
    _("no such file or folder"),
    _("not a policy test file (kind: {kind})"),
    _("'{key}' is not {what_words}"),
    _("an employee of the case"),
    _("'{kpi}' is not a KPI of plan '{plan}'"),
    _("the policy has no gate '{gate}'"),
    _("case '{case}' has no period"),
    _("give period"),
    _("the case has no results"),
    _("give actuals_file (here or at the top) or actuals"),
    _("case '{case}' cannot be scored:"),
    _("'{alias}' names a matched fact, but grouped findings use it for the group"),
    _("give that fact another name with 'as:'"),
    _("'{fact}' facts come from the plan; rules cannot derive them"),
    _("choose a new fact type name"),
    _(
        "the condition on '{alias}' compares with an earlier fact and also uses 'or'; durable_rules cannot evaluate that combination"
    ),
    _("split the 'or' into separate rules, one per alternative"),
    _("count must be a number"),
    _("parties names two matched facts, one per side"),
    _("rank must be a number or text"),
    _("'{fact}' facts have the fields {fields} ({detail})"),
    _("derive every field, with the same names"),
    _("'{key}' is not one of the derived fields"),
    _("duplicate rule id '{rule}' (first at rules[{index}])"),
    _("unknown fact type '{type}'"),
    _("fact types: {types}"),
    _("'{alias}' already names an earlier fact in this rule"),
    _("give each fact its own name with 'as:'"),
    _("a condition must be true or false, e.g. x.sign > 0"),
    _("group by numbers, text or true/false"),
    _("'{alias}' is not a matched fact"),
    _("parties are the aliases of two 'fact: kpi_group' conditions"),
    _("'{alias}' is a {type} fact; parties are kpi_group facts"),
    _("the type of this field cannot be told from null"),
    _("'{fact}.{field}' is {declared}, but this expression gives {given}"),
    _("write text in quotes: \"'{text}'\""),
    # rule expressions (ruleset/expressions.py), and the words of a value's type
    _("the expression is empty"),
    _("{function}() takes numbers"),
    _("not a valid expression: {expression}"),
    _("write 'and' / 'or' instead of '&&' / '||'"),
    _("compare with '==', not '='"),
    _("cannot negate {operand_words}"),
    _("lists cannot be compared"),
    _("match one fact per member (e.g. goal_member)"),
    _("cannot compare {left_words} ({left_type_words}) with {right_words} ({right_type_words})"),
    _("true/false can only be tested with == or !="),
    _("null can only be tested with == or !="),
    _("'not' needs a condition, got {operand_words}"),
    _("'{operator}' needs conditions, got {operand_words}"),
    _("the condition of 'x if condition else y' must be true/false"),
    _(
        "both cases of 'x if condition else y' must have one type (got {body_type_words} and {else_type_words})"
    ),
    _("len() takes a list or text"),
    _("join() takes a list and optionally a 'separator'"),
    _("brief() takes a list and optionally what one item is"),
    _("union() takes two lists"),
    _("'{operator}' needs numbers, but {operand_words} is {type_words}"),
    _("only text can be joined with '+', and only in derived fields and messages"),
    _("the expression"),
    _("a number"),
    _("text"),
    _("a list"),
    _("{construct} is not supported in rule expressions"),
    _("'{name}' is neither a field of '{fact}' nor a matched fact"),
    _("'{name}' is not a matched fact"),
    _("matched facts: {facts}"),
    _("unsupported constant {value}"),
    _("operator '~' is not supported"),
    _("operator '{operator}' is not supported"),
    _("conditions may use + - * / and the comparisons == != < <= > >="),
    _("'{name}' is a matched fact, not a value"),
    _("name one of its fields, e.g. {name}.id"),
    _("fields of '{fact}': {fields}"),
    _("write fields as alias.field (one dot)"),
    _("'{name}' is not a fact matched before here"),
    _("facts matched so far: {facts}"),
    _("facts matched so far: none yet"),
    _("functions are only allowed in derived fields and messages"),
    _("compare fields directly in conditions"),
    _("unknown function '{name}'"),
    _("functions: {functions}"),
    _("functions take no keyword arguments"),
    _("{function}() takes {fewest} to {most} arguments"),
    _("'x if condition else y' is only allowed in derived fields and messages"),
    _("write the two cases as two conditions joined with 'or'"),
    _("numbers must be finite"),
    _("match one fact per member instead, e.g. goal_member"),
    # the durable_rules adapter (ruleset/durable/)
    _("a rule is a mapping with an 'all' list"),
    _(
        "unsupported rule key(s) {keys}: actions are not supported (matches are recorded); use 'derive' to assert facts"
    ),
    _("unsupported rule key(s) {keys}: rules take 'all', 'dist' and 'derive'"),
    _("'all' must be a non-empty list of {alias: condition}"),
    _("a rule has {count} aliases; durable_rules holds at most {most} facts per match"),
    _("'dist' is 0 or 1"),
    _("each entry of 'all' is an object with exactly one alias"),
    _("alias {alias} is not text"),
    _("'{alias}': nested $all/$any groups are not supported"),
    _("alias '{alias}' is used twice"),
    _("'{alias}': a negated alias cannot come first"),
    _(
        "alias '{alias}' needs {slots} expression slots in durable_rules, which has {most}: use fewer joins and $or/$and groups"
    ),
    _("alias '{alias}': {error}"),
    _(
        "alias '{alias}': a condition that joins another alias cannot also use $or (durable_rules evaluates such a condition wrongly); split the rule"
    ),
    _("a condition is an object with one key (combine tests with $and)"),
    _("condition key {key} is not text"),
    _("{key} is not supported by this adapter"),
    _("unknown operator '{operator}'"),
    _("{operator} takes an object with exactly one field"),
    _("a value object has one key: an alias, $m or an arithmetic operator"),
    _("the reference {{{key}: {value}}} names no field"),
    _("'{alias}' is not a positive alias before this one (known: {known})"),
    _("{operator} takes a non-empty list of conditions"),
    _("{operator} takes an object with exactly $l and $r"),
    _("$div by zero"),
    _("arithmetic cannot mix $m with another alias's fields"),
    _("{operator} on a value that is not a number: {value}"),
    _("'derive' is a list of fact templates"),
    _("a 'derive' template is a non-empty mapping of fields"),
    _("a matched fact has no field {field}"),
    _("$ref takes 'alias.field'"),
    _("$ref '{target}': '{alias}' is not a positive alias of this rule (known: {known})"),
    _("the rule engine is closed"),
    _("could not open a rule engine session (the sentinel did not fire)"),
    _("the rule engine dropped a fact as a duplicate (id hash collision)"),
    _("rulesets must be a non-empty mapping of names to rulesets"),
    _("unknown ruleset '{ruleset}'"),
    _("known: {known}"),
    _("facts must be a list of mappings"),
    _("{count} facts in one evaluation; at most {most} (durable_rules keeps about 8 KB per fact)"),
    _("ruleset name {name} must be non-empty text"),
    _("fact {position}: {error}"),
    _("{what} {name} is not text"),
    _("{what} is empty"),
    _("{what} '{name}' starts with '$', which the rule engine reserves"),
    _("{what} '{name}' contains '.', which separates nested fields"),
    _("{what} {name} contains a quote, backslash or control character"),
    _("{path} is not a field name"),
    _(
        "two field names collide under durable_rules' 32-bit hash, which would confuse them; rename one of: {names}"
    ),
    _("a fact is a mapping of fields, not a {type}"),
    _("a fact has more than {most} fields (nested fields count too)"),
    _("two nested field names collide under durable_rules' hash"),
    _("field name {key} is not text"),
    _(
        "a {type} is not a value the rule engine takes (use text, numbers, true/false, null, lists and objects)"
    ),
    _("{value} is not a finite number (NaN and infinities are refused)"),
    _("{value} does not fit in a 64-bit integer"),
    _("text of {size} bytes is longer than {most}"),
    _("{value} is not a finite number"),
    _("text is not valid Unicode (it holds a lone surrogate)"),
    # the run store (storage/)
    _("payouts to store lack the columns {columns}"),
    _("payout row {row} has no amount"),
    _("every payout row needs an employee_id and a department"),
    _("cannot store a value that is not plain JSON: {problem}"),
    _("alignment-engine ships no migrations; the installation is broken"),
    _(
        "this database is at schema revision {revision}, which this engine (newest {head}) does not know: upgrade alignment-engine"
    ),
    _(
        "this database has tables but is not an alignment-engine database (no alembic_version); use an empty database"
    ),
    _(
        "the database schema is at revision {revision_words}, this engine needs {head}: run `alignment-engine db upgrade --db '{url}'`"
    ),
    _("none (empty database)"),
    _("an input role must be 1 to 64 characters, got {role}"),
    _("unknown run kind {kind}: one of {kinds}"),
    _("a release {key} is letters, digits, '.', '_' and '-' (no '@' or spaces), not {value}"),
    _("e.g. acme-plan and 2026.2"),
    _("no run {run} in {where}"),
    _("run id prefix {prefix} matches several runs; give more of the id"),
    _("unknown run status {status}: one of {statuses}"),
    _("the run's result is not JSON: {problem}"),
    _("the run's result is not UTF-8 text: {problem}"),
    _("a run becomes final through finalise(), not when it is stored"),
    _(
        "run {run} is a {kind} run of {period_words} ({status}); a restatement restates the final score run of the period it scores"
    ),
    _("no period"),
    _("the final score run of {period} is {run}"),
    _("{period} has no final score run: score it and finalise that run"),
    _("a release is a plan or a policy, not {kind}"),
    _("effective_to {end} is before effective_from {start}"),
    _("the document is a {found}, not a {kind}"),
    _("no {kind} release named {name} (known: {known})"),
    _("no {kind} release named {name}"),
    _("{kind} {name} has no version {version} (versions: {versions})"),
    _("no version of {kind} {name} is effective throughout {period}"),
    _(
        "{kind} {name}@{version} is already pushed with other content ({hash}...): versions never change; push a new version"
    ),
    _("no job {job}"),
    _("unknown setting {key}"),
    _("require_approval is true or false, not {value}"),
    _("run {run} is {status}; only a completed run is approved"),
    _("run {run} has no period; only a period's run is approved"),
    _("run {run} was recorded by {who}; its approval must come from someone else (maker-checker)"),
    _("run {run} changed while it was being approved"),
    _(
        "run {run} needs an approval before it is final (this database requires one): someone other than its maker runs `alignment-engine runs approve {run} --by NAME`"
    ),
    _("run {run} is {status}; it cannot be final"),
    _("run {run} has no period; only a period's run can be final"),
    _("period {period} already has a final {kind} run: {final}"),
    _(
        "period {period} already has a final {kind} run: {final}; run {run} restates {restates}, which is no longer final"
    ),
    _("run {run} restates {restates}, which is no longer the final run of period {period}"),
    _(
        "run {run} settled the deferrals and recoveries open when it was made, and they have changed since (another run became final): score the period again and finalise that run"
    ),
    _(
        "{kind} run {run} is final for period {period}; a run with different inputs cannot replace it"
    ),
    _(
        "{kind} run {run} is final for period {period}; a run with different inputs cannot replace it; to correct it, re-score with --restates {run} (a new run with per-employee adjustments; the final run stays as it is)"
    ),
    _("no document {document} in {where}"),
    _("no input table {table} in {where}"),
    _(
        "token name {name} must be 1 to 100 letters, digits or . _ @ -, starting with a letter or digit"
    ),
    _("unknown role {role}: one of {roles}"),
    _("a token named {name} exists (revoked tokens keep their name); choose another name"),
    _("no token named {name}"),
    _("not found in {where}: {problem}"),
    _("the change clashes with data stored in {where}: {problem}"),
    _("database {where} failed: {problem}"),
    _("migrating {where} failed: {problem}"),
    _("unsupported database URL scheme {scheme}"),
    _("use sqlite:///PATH, a file path, or postgresql://USER@HOST/DB"),
    _("cannot parse database URL {url}: {problem}"),
    # the rows of actuals, employees and adjustments tables
    _("empty"),
    _("'{scope}' is not 'company', a department or a shared goal of plan '{plan}'"),
    _("a row names a kpi or a measure, not both"),
    _("'{kpi}' is not a KPI of '{scope}'"),
    _("'{kpi}' is not a KPI of the plan"),
    _("'{kpi}' is a KPI of '{owner}', not of '{scope}'"),
    _("'{kpi}' is not shared goal '{scope}' (a shared goal's kpi is its own id)"),
    _("'{kpi}' is a KPI of '{owner}'"),
    _("give scope '{owner}'"),
    _("'{measure}' is not used by any metric formula of plan '{plan}' (formulas use: {measures})"),
    _("'{measure}' is not used by any metric formula of plan '{plan}'"),
    _("{value} is not a number"),
    _("must be a finite number"),
    _("'{employee}' is not an employee of this period's employees table"),
    _("{value} is finer than the policy pays ({smallest})"),
    _("e.g. 1250.00"),
    _("round it to {decimals} decimals"),
    _("every adjustment needs a reason code"),
    _("'{department}' is not a department of the plan"),
    _("{end} is before start_date {start}"),
    _("employee '{employee}' again: this row's dates overlap row {row}"),
    _("duplicate employee '{employee}' (first at row {row})"),
    _(
        "an employee has one row per segment of the period (a transfer, a new target bonus), with start_date and end_date that do not overlap"
    ),
    _("a row per segment of the period needs its start_date and end_date"),
    _("{value} must be a finite number, 0 or more"),
    _(
        "'{currency}' differs from the policy's currency '{policy_currency}' and the fx table has no rate for it"
    ),
    _("'{currency}' differs from the policy's currency '{policy_currency}'"),
    _("give an fx table (score --fx: period, currency, rate) with its rate for the period"),
    _("this row gives a target_bonus and a target_bonus_percent"),
    _("keep one: the amount, or salary and target_bonus_percent"),
    _("or give salary and target_bonus_percent"),
    _("{value} must not be negative"),
    _("{value} is not a date (use YYYY-MM-DD)"),
    _("{percent} reads as {percent}% of salary"),
    _("target_bonus_percent is a percentage of salary"),
    _("write percentages as numbers of percent: {percent} for {percent}%"),
    _("{value} must be between 0 and 1000"),
    _("give the percentage of salary, or a target_bonus"),
    _("{value} is not a currency code"),
    _("e.g. USD"),
    _("{value} must be a positive number"),
    # the optimiser's problem (optimisation/problem.py)
    _("there are no departments to allocate resources to"),
    _("department ids must be unique"),
    _("resource ids must be unique"),
    _("KPI ids must be unique"),
    _("curves.covariance must have shape (curves, 2, 2)"),
    _("curves.shape holds an unknown shape code"),
    _("department_kpis groups must be the departments, in the same order"),
    _("pools.{name} has shape {shape}, expected {expected}"),
    _("kpis.{name} must have one entry per KPI"),
    _("curves.{name} must have one entry per curve"),
    _("resource '{resource}': capacity must be a finite amount >= 0"),
    _("resource '{resource}': max_change must be >= 0, got {change}"),
    _("resource '{resource}': step must be >= 0, got {step}"),
    _(
        "KPI '{kpi}': target {target} cannot be scored; attainment (value/target) needs a positive target"
    ),
    _("KPI '{kpi}': baseline must be finite"),
    _("curves.{name} refers to a {what} that does not exist"),
    _("{name}: group, kpi and weight must have the same length"),
    _(
        "resource '{resource}': department '{department}' has amount {amount}; amounts must be finite and >= 0"
    ),
    _(
        "resource '{resource}': department '{department}' has minimum {amount}; amounts must be finite and >= 0"
    ),
    _(
        "resource '{resource}': department '{department}' has {what} {amount}; amounts must be finite and >= 0"
    ),
    _("curve of KPI '{kpi}' on resource '{resource}' for department '{department}': {error}"),
    _("{name} refers to a KPI that does not exist"),
    _("{name} refers to a group that does not exist"),
    _("{name}: weights must be finite and >= 0"),
    _("unknown {what} '{key}'"),
)
