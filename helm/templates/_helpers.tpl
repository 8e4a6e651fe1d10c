{{/* Chart name, truncated to the 63 characters a label allows. */}}
{{- define "backups-bot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of the release's objects. */}}
{{- define "backups-bot.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "backups-bot.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "backups-bot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "backups-bot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "backups-bot.labels" -}}
helm.sh/chart: {{ include "backups-bot.chart" . }}
{{ include "backups-bot.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "backups-bot.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "backups-bot.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding tokens and the key: the user's own, or the chart's. */}}
{{- define "backups-bot.secretName" -}}
{{- default (include "backups-bot.fullname" .) .Values.existingSecret }}
{{- end }}

{{/* True (non-empty) when the database is PostgreSQL. */}}
{{- define "backups-bot.postgres" -}}
{{- if hasPrefix "postgresql" .Values.database.url }}true{{ end }}
{{- end }}

{{/* SQLite on a volume of the chart (or an existing claim). */}}
{{- define "backups-bot.usePvc" -}}
{{- if and (not (include "backups-bot.postgres" .)) .Values.persistence.enabled }}true{{ end }}
{{- end }}

{{- define "backups-bot.databaseUrl" -}}
{{- default "sqlite+aiosqlite:////data/backups-bot.db" .Values.database.url }}
{{- end }}

{{/* Refuse what cannot work, each in one sentence that says what to set. The schema accepts
these values on purpose: helm checks the schema before any template runs, and its messages
("Does not match pattern") would hide these. */}}
{{- define "backups-bot.validate" -}}
{{- if not .Values.image.repository }}
{{- fail "image.repository is empty: build the image (make image), push it to your registry and set image.repository to it" }}
{{- end }}
{{- if and (not .Values.existingSecret) (not .Values.secrets.slackBotToken) }}
{{- fail "no bot token: set secrets.slackBotToken to the app's xoxb- token, or existingSecret to a Secret of yours that holds SLACK_BOT_TOKEN" }}
{{- end }}
{{- $watch := .Values.config.watch | default dict }}
{{- if and (not $watch.clouds) (not $watch.organization) (not $watch.folders) (not $watch.clusters) }}
{{- fail "nothing is watched: set config.watch.clouds (every folder of a cloud), config.watch.folders or config.watch.clusters" }}
{{- end }}
{{- if and (gt (int .Values.replicaCount) 1) (not (include "backups-bot.postgres" .)) }}
{{- fail "replicaCount > 1 needs PostgreSQL: set database.url to postgresql+asyncpg://... (SQLite is one file on one volume)" }}
{{- end }}
{{- if regexMatch "^[a-z0-9+]+://[^/@]*:[^/@]*@" .Values.database.url }}
{{- fail "database.url holds a password: take it out of the URL and set secrets.databasePassword (the bot gets it as PGPASSWORD)" }}
{{- end }}
{{- end }}
