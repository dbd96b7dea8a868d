# bash completion for ctrlmap. The words come from `ctrlmap --complete [COMMAND]`, which the command table
# generates, so new commands and options complete without editing this file.
_ctrlmap() {
  local line=${COMP_LINE:0:COMP_POINT} cur="" words
  local -a w
  read -ra w <<<"$line"
  [[ $line != *" " ]] && cur=${w[${#w[@]} - 1]}
  local n=${#w[@]}
  [[ -n $cur ]] && n=$((n - 1))
  if ((n <= 1)); then
    words=$(ctrlmap --complete 2>/dev/null)
  elif [[ $cur == -* ]]; then
    words=$(ctrlmap --complete "${w[1]}" 2>/dev/null)
  else
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    return
  fi
  mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
  # bash splits "plugins:extract" at ':' when ':' is in COMP_WORDBREAKS: complete only what follows it
  if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
    local prefix=${cur%"${cur##*:}"}
    COMPREPLY=("${COMPREPLY[@]#"$prefix"}")
  fi
}
complete -F _ctrlmap ctrlmap
