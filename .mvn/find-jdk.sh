# Finds a JDK >= 25 whatever the machine's default java is; sourced by ./mvnw and ./smalloc4j so
# that the search is written once. Looks at JAVA_HOME if it is one, else the usual install folders.
#
#   . .mvn/find-jdk.sh
#   require_jdk          # exports JAVA_HOME, or prints one line saying what is missing and exits 1

MIN_JAVA=25

java_major() { # prints the feature version of the java at $1/bin/java, or nothing
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p' | head -n 1
}

find_jdk() { # prints the first JDK >= MIN_JAVA (javac included), or fails
  local candidates=()
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  local dir
  for dir in /usr/lib/jvm/* /usr/local/lib/jvm/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/*; do
    [ -d "$dir" ] && candidates+=("$dir")
  done
  for dir in "${candidates[@]}"; do
    [ -x "$dir/bin/java" ] && [ -x "$dir/bin/javac" ] || continue
    local major; major=$(java_major "$dir")
    if [ -n "$major" ] && [ "$major" -ge "$MIN_JAVA" ] 2>/dev/null; then
      echo "$dir"; return 0
    fi
  done
  return 1
}

require_jdk() { # exports JAVA_HOME as a JDK >= MIN_JAVA, or exits
  local jdk
  if ! jdk=$(find_jdk); then
    echo "smalloc4j needs a JDK $MIN_JAVA or newer (javac included): set JAVA_HOME to one or install one under /usr/lib/jvm (e.g. Temurin 25)." >&2
    exit 1
  fi
  export JAVA_HOME="$jdk"
}
